/**
 * The setup page adds support groups by id, each checked like the first: an id that is not a
 * supergroup's is named, a group the bot is not in fails its checks and blocks the save, and the
 * saved desk spreads new customers over both groups.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser } from "../support/telegram-flow.ts";
import { placeOf, SECOND_GROUP } from "../support/telegram-groups.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService | undefined;
beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble({ groupTitle: "Acme Support" });
	tg.addForum(SECOND_GROUP, "Acme Russian");
}, 30_000);
afterAll(async () => {
	await service?.stop();
	await tg.close();
	await db.drop();
}, 30_000);

test("more support groups by id on the setup page: checked, saved, used", async () => {
	const logged: Record<string, unknown>[] = [];
	const loaded = loadConfig(testEnv({ db, env: { TELEGRAM_API_URL: tg.url } }));
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	const log = createLogger({ level: "info", json: true, write: (l) => logged.push(JSON.parse(l)) });
	service = await startService(loaded.config, { pglite: db.pglite, log });
	const line = logged.find((entry) => entry.event === "setup.link");
	const code = /setup\?code=(\S+)$/.exec(String(line?.message))?.[1] ?? "";
	const url = service.url;
	const post = (action: string, fields: Record<string, string>) =>
		fetch(`${url}/setup/${action}`, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ code, ...fields }),
			redirect: "manual",
		});
	const page = async () => (await fetch(`${url}/setup?code=${code}`)).text();

	await post("token", { token: tg.token });
	tg.botAdded("administrator");
	await eventually(async () => (await page()).includes("Use Acme Support"));
	await post("group", { groupId: String(tg.groupId) });

	// Not an id, and a group the bot is not in: named, and the save refused.
	await post("groups", { groups: `abc, -1005555555555` });
	const refused = await page();
	expect(refused).toContain("Not a supergroup id: abc");
	expect(refused).toContain("Group -1005555555555");
	expect(refused).toContain("Problem: The bot is in group -1005555555555");
	expect((await post("save", {})).status).toBe(303);
	const none = await service.database.query<{ key: string }>(
		sql`select key from settings where key = 'setup.bot_token'`,
	);
	expect(none).toEqual([]);

	// The second group, set up right: its checks pass, and the desk is saved with both.
	await post("groups", { groups: String(SECOND_GROUP) });
	const checked = await page();
	expect(checked).toContain(`Group ${SECOND_GROUP}`);
	expect(checked).toContain("Acme Russian is a forum (Topics on)");
	expect(checked).not.toContain("Problem:");
	expect((await post("save", {})).status).toBe(200);
	const rows = await service.database.query<{ value: string }>(
		sql`select value from settings where key = 'setup.more_group_ids'`,
	);
	expect(rows).toEqual([{ value: String(SECOND_GROUP) }]);

	// Two new customers, one after the other: each group takes one (the shorter queue, in turn).
	const places: (number | null)[] = [];
	for (const name of ["First", "Second"]) {
		const user = newUser(name);
		tg.customerSends(user, `hello from ${name}`);
		const place = await eventually(async () => {
			const found = await placeOf(service as RunningService, user.id);
			return found.topicId != null && found;
		});
		places.push(place.groupId);
	}
	expect(places.sort()).toEqual([SECOND_GROUP, null].sort());
}, 60_000);
