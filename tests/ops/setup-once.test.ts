/**
 * The setup page's state lives in the database: two saves at once store and start one bot (the
 * second is told setup is done), the one-time code expires and is replaced at the next start,
 * and on PostgreSQL every instance answers the page alike: the code one instance logged works on
 * another, and a save on one closes the page on the others and starts the bot there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import {
	createPostgresDatabase,
	dropPostgresDatabase,
	freshDatabase,
	onPostgres,
	type TestDatabase,
} from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import { until } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { newUser, topicIdOf } from "../support/telegram-flow.ts";

let tg: TelegramDouble;
const running: RunningService[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(() => {
	tg = startTelegramDouble({ groupTitle: "Acme Support" });
});
afterAll(async () => {
	for (const service of running) await service.stop().catch(() => undefined);
	for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
	await tg.close();
}, 30_000);

interface Desk {
	service: RunningService;
	logged: Record<string, unknown>[];
	dataDir: string;
	events(name: string): Record<string, unknown>[];
}

/** The service without a bot, pointed at the double, its log captured. */
async function start(db: TestDatabase, env: Record<string, string> = {}): Promise<Desk> {
	const logged: Record<string, unknown>[] = [];
	const vars = testEnv({
		db,
		env: { TELEGRAM_API_URL: tg.url, ...env },
		configFile: { telegram: { pollTimeout: "1s" } },
	});
	const loaded = loadConfig(vars);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	const log = createLogger({
		level: "info",
		json: true,
		write: (line) => logged.push(JSON.parse(line)),
	});
	const service = await startService(loaded.config, { pglite: db.pglite, log });
	running.push(service);
	return {
		service,
		logged,
		dataDir: vars.DATA_DIR as string,
		events: (name) => logged.filter((line) => line.event === name),
	};
}

async function stop(desk: Desk) {
	running.splice(running.indexOf(desk.service), 1);
	await desk.service.stop();
}

/** The code in the setup link the desk logged, if it logged one. */
function loggedCode(desk: Desk): string | undefined {
	const line = desk.events("setup.link")[0];
	return /\/setup\?code=(\S+)$/.exec(String(line?.message))?.[1];
}

const page = (desk: Desk, code: string) => fetch(`${desk.service.url}/setup?code=${code}`);

function post(desk: Desk, action: string, fields: Record<string, string>) {
	return fetch(`${desk.service.url}/setup/${action}`, {
		method: "POST",
		headers: { "content-type": "application/x-www-form-urlencoded" },
		body: new URLSearchParams(fields),
		redirect: "manual",
	});
}

function botJoined() {
	tg.botAdded();
}

/** Token checked and group chosen on `desk`, so that a save there stores the bot. */
async function readyToSave(desk: Desk, code: string) {
	expect((await post(desk, "token", { code, token: tg.token })).status).toBe(303);
	// The desk's group finder sees the bot join (pushed again while another finder takes them).
	await until(
		"the group shows on the setup page",
		async () => {
			botJoined();
			await tg.waitForUpdateConfirmed();
			return (await (await page(desk, code)).text()).includes("Use Acme Support") || undefined;
		},
		20_000,
	);
	expect((await post(desk, "group", { code, groupId: String(tg.groupId) })).status).toBe(303);
}

/** The bot's readiness detail; a desk not ready yet answers 503 with the checks beside the error. */
async function botDetail(desk: Desk): Promise<string | undefined> {
	type Checks = { checks?: { bot?: { detail: string } } };
	const body = (await (await fetch(`${desk.service.url}/health/ready`)).json()) as Checks & {
		data?: Checks;
	};
	return (body.data ?? body).checks?.bot?.detail;
}

const conflicts = (since: number) =>
	tg.calls.slice(since).filter((c) => c.method === "getUpdates" && c.errorCode === 409).length;

async function expiredCode(desk: Desk) {
	await desk.service.database.query(sql`
		update settings
		set value = jsonb_set(value::jsonb, '{expiresAt}', to_jsonb(now() - interval '1 minute'))::text
		where key = 'setup.code'`);
}

describe("one save, one bot", () => {
	test("two saves at once: one stores and starts the bot, the other is told setup is done", async () => {
		tg.reset();
		const db = await freshDatabase();
		cleanups.push(() => db.drop());
		const desk = await start(db);
		const code = loggedCode(desk) as string;
		await readyToSave(desk, code);

		const answers = await Promise.all([post(desk, "save", { code }), post(desk, "save", { code })]);
		expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
		const refused = answers.find((a) => a.status === 409) as Response;
		expect(await refused.json()).toMatchObject({
			success: false,
			error: { code: "SETUP_DONE", message: expect.stringContaining("already complete") },
		});
		// A save after that is told the same, and stores nothing.
		const late = await post(desk, "save", { code });
		expect(late.status).toBe(409);
		const stored = await desk.service.database.query<{ key: string }>(
			sql`select key from settings where key in ('setup.bot_token', 'setup.support_group_id')`,
		);
		expect(stored).toHaveLength(2);

		// One bot: one "completed", one poller elected, and a customer's message gets a topic
		// with no getUpdates ever answered 409 (two pollers would keep cutting each other off).
		const since = tg.calls.length;
		const user = newUser("Twice");
		tg.customerSends(user, "hello after a double click");
		expect(await topicIdOf(desk.service, user.id, 10_000)).toBeGreaterThan(0);
		await tg.waitForUpdateConfirmed();
		expect(desk.events("setup.completed")).toHaveLength(1);
		expect(desk.logged.filter((l) => l.message === "elected to poll Telegram")).toHaveLength(1);
		expect(tg.callsOf("createForumTopic")).toHaveLength(1);
		expect(conflicts(since)).toBe(0);
		await stop(desk);
	}, 60_000);
});

describe("the one-time code", () => {
	test("it expires: refused at once, replaced and logged again at the next start", async () => {
		tg.reset();
		const db = await freshDatabase();
		cleanups.push(() => db.drop());
		const first = await start(db);
		const old = loggedCode(first) as string;
		expect((await page(first, old)).status).toBe(200);
		// The database keeps its hash, never the code.
		const [row] = await first.service.database.query<{ value: string }>(
			sql`select value from settings where key = 'setup.code'`,
		);
		expect(row?.value).not.toContain(old);
		await stop(first);

		// Restarted within the 24 hours: the same code, logged again, still works.
		const same = await start(db, { DATA_DIR: first.dataDir });
		expect(loggedCode(same)).toBe(old);
		expect((await page(same, old)).status).toBe(200);

		await expiredCode(same);
		expect((await page(same, old)).status).toBe(404);
		expect((await post(same, "token", { code: old, token: tg.token })).status).toBe(404);
		await stop(same);

		const next = await start(db, { DATA_DIR: first.dataDir });
		const fresh = loggedCode(next) as string;
		expect(fresh).toBeDefined();
		expect(fresh).not.toBe(old);
		expect((await page(next, old)).status).toBe(404);
		expect((await page(next, fresh)).status).toBe(200);
		await stop(next);
	}, 60_000);
});

// Several instances share a database on PostgreSQL only (PGlite is one process's).
if (onPostgres)
	describe("two instances on one PostgreSQL", () => {
		test("one code for both, one save wins, and the other instance closes and runs the bot", async () => {
			tg.reset();
			const url = await createPostgresDatabase();
			cleanups.push(() => dropPostgresDatabase(url));
			const db: TestDatabase = { url, engine: "postgres", drop: async () => {} };
			const [a, b] = await Promise.all([start(db), start(db)]);
			if (!a || !b) throw new Error("two instances expected");
			// Started together, they agree on one code: one logs it, the other says where it is.
			const codes = [loggedCode(a), loggedCode(b)].filter(Boolean);
			expect(codes).toHaveLength(1);
			const code = codes[0] as string;
			const [issuer, other] = loggedCode(a) ? [a, b] : [b, a];
			expect(other.events("setup.link_elsewhere")).toHaveLength(1);
			for (const desk of [a, b]) {
				expect((await page(desk, code)).status).toBe(200);
				expect((await page(desk, "wrong")).status).toBe(404);
			}

			// Both get as far as saving, then save at the same moment: one wins.
			await readyToSave(issuer, code);
			await readyToSave(other, code);
			const answers = await Promise.all([
				post(issuer, "save", { code }),
				post(other, "save", { code }),
			]);
			expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
			expect(
				[...a.events("setup.completed"), ...b.events("setup.completed")].map((l) => l.event),
			).toEqual(["setup.completed"]);

			// The page is closed on both; both run the bot, and exactly one of them polls.
			for (const desk of [a, b]) expect((await page(desk, code)).status).toBe(404);
			const details = await until(
				"one instance polls, the other stands by",
				async () => {
					const both = (await Promise.all([botDetail(a), botDetail(b)])).sort();
					return both[0] === "polling" && both[1] === "standby" ? both : undefined;
				},
				15_000,
			);
			expect(details).toEqual(["polling", "standby"]);
			const since = tg.calls.length;
			const user = newUser("Instances");
			tg.customerSends(user, "hello to two instances");
			expect(await topicIdOf(a.service, user.id, 10_000)).toBeGreaterThan(0);
			await tg.waitForUpdateConfirmed();
			expect(conflicts(since)).toBe(0);
		}, 90_000);

		test("a save on one instance closes the page on the other, which starts the bot", async () => {
			tg.reset();
			const url = await createPostgresDatabase();
			cleanups.push(() => dropPostgresDatabase(url));
			const db: TestDatabase = { url, engine: "postgres", drop: async () => {} };
			const a = await start(db);
			const code = loggedCode(a) as string;
			const b = await start(db);
			expect(loggedCode(b)).toBeUndefined();
			expect((await page(b, code)).status).toBe(200);
			expect(await botDetail(b)).toBe("disabled");

			await readyToSave(a, code);
			expect((await post(a, "save", { code })).status).toBe(200);
			expect((await page(b, code)).status).toBe(404);
			expect((await post(b, "save", { code })).status).toBe(409);
			await until(
				"the other instance runs the saved bot",
				async () => ((await botDetail(b)) !== "disabled" ? true : undefined),
				10_000,
			);
			expect(b.events("setup.stored_bot")).toHaveLength(1);
			expect(b.events("setup.completed")).toHaveLength(0);

			await stop(a);
			await stop(b);
		}, 90_000);
	});
