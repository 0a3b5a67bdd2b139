/**
 * The first-run setup page driven in Chromium against the Bot API double: the one-time
 * link in the log, a rejected token, the bot found by getMe, the group found through
 * my_chat_member, a failing check with its fix, the save that starts the bot without a restart,
 * and /setup closed for good afterwards. Elements are found by role and accessible name; any
 * console error fails the test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type Browser, chromium } from "playwright-core";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { freePort } from "../support/process.ts";
import { testEnv } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { newUser, topicIdOf } from "../support/telegram-flow.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let browser: Browser;
const services: RunningService[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble({ groupTitle: "Acme Support" });
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
		args: ["--no-sandbox"],
	});
}, 30_000);
afterAll(async () => {
	for (const service of services) await service.stop();
	await browser?.close();
	await tg.close();
	await db.drop();
}, 30_000);

/** The service without BOT_TOKEN, pointed at the double, with its log lines captured. */
async function start(env: Record<string, string> = {}, database: TestDatabase = db) {
	const logged: Record<string, unknown>[] = [];
	const vars = testEnv({ db: database, env: { TELEGRAM_API_URL: tg.url, ...env } });
	const loaded = loadConfig(vars);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	const log = createLogger({
		level: "info",
		json: true,
		write: (line) => logged.push(JSON.parse(line)),
	});
	const service = await startService(loaded.config, { pglite: database.pglite, log });
	services.push(service);
	return { service, logged, dataDir: vars.DATA_DIR as string };
}

function botJoined(status: "member" | "administrator") {
	tg.botAdded("member");
	if (status === "member") tg.setBotRights("member");
}

describe("setup page", () => {
	test("from the logged link to a running bot, in a browser", async () => {
		const { service, logged, dataDir } = await start();
		const linkLine = logged.find((line) => line.event === "setup.link");
		expect(linkLine).toBeDefined();
		const link = /(http:\/\/\S+\/setup\?code=(\S+))$/.exec(String(linkLine?.message));
		if (!link?.[1] || !link[2]) throw new Error(`no setup link in ${String(linkLine?.message)}`);
		const code = link[2];
		expect(readFileSync(join(dataDir, "setup-code"), "utf8").trim()).toBe(code);
		// The page's URL uses PUBLIC_URL; the test reaches the same listener on 127.0.0.1.
		const pageUrl = `${service.url}/setup?code=${code}`;

		// Without the code, or with a wrong one: 404, as if there were no such page.
		expect((await fetch(`${service.url}/setup`)).status).toBe(404);
		expect((await fetch(`${service.url}/setup?code=wrong`)).status).toBe(404);
		const forged = await fetch(`${service.url}/setup/token`, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ code: "wrong", token: tg.token }),
		});
		expect(forged.status).toBe(404);

		const page = await browser.newPage();
		const consoleErrors: string[] = [];
		page.on("console", (message) => {
			if (message.type() === "error") consoleErrors.push(message.text());
		});
		page.on("pageerror", (error) => consoleErrors.push(String(error)));
		await page.goto(pageUrl);
		await page.getByRole("heading", { name: "Set up topicdesk" }).waitFor();

		// A token Telegram rejects: the fix is shown, nothing moves on.
		await page.getByLabel("Bot token").fill("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		await page.getByRole("button", { name: "Check token" }).click();
		await page.getByText("Telegram rejected this token: it is mistyped or was revoked.").waitFor();
		expect(await page.getByRole("heading", { name: "2. Your support group" }).count()).toBe(0);

		// The right token: getMe shows the bot, and the page waits for a group.
		await page.getByLabel("Bot token").fill(tg.token);
		await page.getByRole("button", { name: "Check token" }).click();
		await page.getByText("Bot found: Topicdesk Test Bot (@topicdesk_test_bot)").waitFor();
		await page.getByText("Waiting for @topicdesk_test_bot to be added to a group…").waitFor();
		// Telegram was asked to pre-tick the rights the bot needs when someone adds it to a group.
		const rights = await tg.waitForCall("setMyDefaultAdministratorRights");
		expect(rights.ok).toBe(true);
		expect(rights.params.rights).toMatchObject({
			can_manage_topics: true,
			can_pin_messages: true,
			can_delete_messages: true,
			can_promote_members: false,
		});
		expect(rights.params.for_channels).toBeUndefined();

		// Added as a plain member: the group appears by itself (the page reloads while waiting).
		botJoined("member");
		await page.getByRole("button", { name: "Use Acme Support" }).click({ timeout: 10_000 });
		await page
			.getByText("Problem: @topicdesk_test_bot is an administrator in Acme Support")
			.waitFor();
		await page
			.getByText("Make @topicdesk_test_bot an administrator: group → Administrators → Add admin.")
			.waitFor();
		expect(await page.getByRole("button", { name: "Save and start" }).count()).toBe(0);

		// Promoted: every check passes and the bot can be saved.
		tg.setBotRights({});
		await page.getByRole("button", { name: "Check again" }).click();
		await page.getByText("@topicdesk_test_bot may manage topics").waitFor();
		expect(await page.getByText(/^Problem:/).count()).toBe(0);
		await page.getByRole("button", { name: "Save and start" }).click();
		await page.getByRole("heading", { name: "Setup complete" }).waitFor();
		expect(consoleErrors).toEqual([]);
		await page.close();

		// /setup is gone for good, the code included.
		expect((await fetch(pageUrl)).status).toBe(404);
		// The token is stored, encrypted.
		const rows = await service.database.query<{ key: string; value: string }>(
			sql`select key, value from settings where key like 'setup.%' order by key`,
		);
		expect(rows.map((row) => row.key)).toEqual([
			"setup.bot_token",
			"setup.code",
			"setup.support_group_id",
		]);
		expect(rows[0]?.value).not.toContain(tg.token.split(":")[1] as string);
		// The code is kept as a hash only, marked used.
		expect(rows[1]?.value).not.toContain(code);
		expect(JSON.parse(rows[1]?.value ?? "{}")).toMatchObject({ done: true });
		expect(rows[2]?.value).toBe(String(tg.groupId));

		// The bot runs without a restart: a customer's message gets a topic.
		const user = newUser("Setup");
		tg.customerSends(user, "hello after setup");
		expect(await topicIdOf(service, user.id, 10_000)).toBeGreaterThan(0);
		expect(logged.some((line) => line.event === "setup.completed")).toBe(true);
		expect(JSON.stringify(logged)).not.toContain(tg.token);
		await service.stop();
		services.length = 0;

		// Restarted on the same DATA_DIR (the generated app secret is there): the stored bot is used,
		// no setup link, /setup does not exist.
		const again = await start({ DATA_DIR: dataDir });
		expect(again.logged.some((line) => line.event === "setup.link")).toBe(false);
		expect(again.logged.some((line) => line.event === "setup.stored_bot")).toBe(true);
		expect((await fetch(`${again.service.url}/setup?code=${code}`)).status).toBe(404);
		const other = newUser("Again");
		tg.customerSends(other, "hello after restart");
		expect(await topicIdOf(again.service, other.id, 10_000)).toBeGreaterThan(0);
		await again.service.stop();
		services.length = 0;

		// Environment variables win over the stored bot.
		const envDouble = startTelegramDouble({ token: "777777:ENV-token" });
		try {
			const envWins = await start({
				BOT_TOKEN: envDouble.token,
				SUPPORT_GROUP_ID: String(envDouble.groupId),
				TELEGRAM_API_URL: envDouble.url,
			});
			// The bot checks run with the environment's token (a long poll is recorded only when it ends).
			await envDouble.waitForCall("getChatMember");
			expect(envWins.logged.some((line) => line.event === "setup.stored_bot")).toBe(false);
			await envWins.service.stop();
			services.length = 0;
		} finally {
			await envDouble.close();
		}
	}, 90_000);

	test("in webhook mode the saved bot takes its updates through the webhook at once, with no restart", async () => {
		const fresh = await freshDatabase();
		const port = freePort();
		const hookUrl = `http://127.0.0.1:${port}/telegram/webhook`;
		const secret = "setup_webhook-0123456789_abcdefghijkl";
		try {
			const { service, logged } = await start(
				{
					PORT: String(port),
					TELEGRAM_MODE: "webhook",
					TELEGRAM_WEBHOOK_URL: hookUrl,
					TELEGRAM_WEBHOOK_SECRET: secret,
				},
				fresh,
			);
			const link = /setup\?code=(\S+)$/.exec(
				String(logged.find((line) => line.event === "setup.link")?.message),
			);
			const code = link?.[1] ?? "";
			const post = (action: string, fields: Record<string, string> = {}) =>
				fetch(`${service.url}/setup/${action}`, {
					method: "POST",
					headers: { "content-type": "application/x-www-form-urlencoded" },
					body: new URLSearchParams({ code, ...fields }),
					redirect: "manual",
				});
			// No bot yet: the webhook does not exist.
			const early = await fetch(hookUrl, {
				method: "POST",
				headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
				body: JSON.stringify({ update_id: 1 }),
			});
			expect(early.status).toBe(404);

			expect((await post("token", { token: tg.token })).status).toBe(303);
			botJoined("administrator");
			await tg.waitForUpdateConfirmed();
			expect((await post("group", { groupId: String(tg.groupId) })).status).toBe(303);
			const saved = await post("save");
			expect(saved.status).toBe(200);
			expect(await saved.text()).toContain("Setup complete");

			// The door registered the service's webhook, and a customer's message comes through it
			// (while a webhook is set, the double answers getUpdates 409, as Telegram does).
			const registered = await tg.waitForCall("setWebhook");
			expect(registered.params.url).toBe(hookUrl);
			const user = newUser("Webhook");
			tg.customerSends(user, "hello through the webhook");
			expect(await topicIdOf(service, user.id, 10_000)).toBeGreaterThan(0);
			await tg.waitForUpdateConfirmed();
			await service.stop();
			services.length = 0;
		} finally {
			tg.reset();
			await fresh.drop();
		}
	}, 60_000);
});
