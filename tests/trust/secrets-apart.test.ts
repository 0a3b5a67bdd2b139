/**
 * The key apart from what it seals: a desk whose bot token was saved through the setup page is
 * backed up, and the backup alone does not give the token back (the key is not in it, nothing in
 * it opens the sealed token, and a desk restored from it does not start the bot). The data
 * directory is the owner's alone (0700, the key 0600, no file of the database readable by
 * others). An app secret an earlier version kept in the database is moved out once; with
 * DATABASE_URL, APP_SECRET is required from the environment.
 *
 * The processes run on PGlite whatever the suite's engine: backups are the embedded database's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { openSecret } from "../../src/setup/secret-box.ts";
import { insertStoredBot } from "../../src/setup/stored-bot.ts";
import { entry, runCommand } from "../ops/cli.ts";
import { freshDatabase, onPostgres, type TestDatabase } from "../support/db.ts";
import { type ChildService, spawnService, tempDir } from "../support/process.ts";
import { testEnv, writeConfigFile } from "../support/service.ts";
import { until } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";

let tg: TelegramDouble;
const children: ChildService[] = [];
const services: RunningService[] = [];
beforeAll(() => {
	tg = startTelegramDouble({ groupTitle: "Acme Support" });
});
afterAll(async () => {
	for (const child of children) if (child.proc.exitCode === null) await child.stop();
	for (const service of services) await service.stop().catch(() => undefined);
	await tg.close();
}, 30_000);

const mode = (path: string) => statSync(path).mode & 0o777;

/** Every path under `dir`, itself included. */
function walk(dir: string): string[] {
	return [
		dir,
		...readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
			entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
		),
	];
}

const configFile = writeConfigFile({ telegram: { pollTimeout: "1s" } });
const embeddedEnv = (dataDir: string) => ({
	DATA_DIR: dataDir,
	CONFIG_FILE: configFile,
	TELEGRAM_API_URL: tg.url,
	LOG_LEVEL: "info",
});

async function startOn(dataDir: string) {
	const child = await spawnService(["bun", "run", entry], embeddedEnv(dataDir), {
		readyPath: "/health/ready",
		timeoutMs: 60_000,
	});
	children.push(child);
	return child;
}

async function botDetail(url: string): Promise<string> {
	const body = (await (await fetch(`${url}/health/ready`)).json()) as {
		data: { checks: { bot: { detail: string } } };
	};
	return body.data.checks.bot.detail;
}

/** The setup page, driven over HTTP: token, group, save. */
async function setUp(url: string, code: string) {
	const post = (action: string, fields: Record<string, string>) =>
		fetch(`${url}/setup/${action}`, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ code, ...fields }),
			redirect: "manual",
		});
	expect((await post("token", { token: tg.token })).status).toBe(303);
	tg.botAdded();
	await tg.waitForUpdateConfirmed();
	expect((await post("group", { groupId: String(tg.groupId) })).status).toBe(303);
	expect((await post("save", {})).status).toBe(200);
}

describe("a backup alone does not give the bot token back", () => {
	test("the key stays in DATA_DIR: not in the backup, nothing in it opens the token, a restored desk runs no bot", async () => {
		const dataDir = tempDir("td-sealed-");
		const desk = await startOn(dataDir);
		await setUp(desk.url, readFileSync(join(dataDir, "setup-code"), "utf8").trim());
		await until(
			"the saved bot runs",
			async () => ((await botDetail(desk.url)) === "polling" ? true : undefined),
			10_000,
		);

		// The data directory is the owner's alone; so is every file in it, the database's included.
		const secretFile = join(dataDir, "app-secret");
		expect(mode(dataDir)).toBe(0o700);
		expect(mode(secretFile)).toBe(0o600);
		const open = walk(dataDir).filter((path) => (statSync(path).mode & 0o077) !== 0);
		expect(open).toEqual([]);
		const secret = readFileSync(secretFile, "utf8").trim();
		expect(secret.length).toBeGreaterThanOrEqual(32);

		const file = join(tempDir("td-sealed-backup-"), "desk.tar.gz");
		const saved = await runCommand(["backup", file], embeddedEnv(dataDir));
		expect(saved.code).toBe(0);
		expect(mode(file) & 0o077).toBe(0);
		const backup = readFileSync(file);

		// The key is nowhere in the backup's bytes.
		const tar = Buffer.from(Bun.gunzipSync(backup));
		expect(tar.includes(secret)).toBe(false);
		// The sealed token is, and the key opens it: the attack below could succeed.
		const copy = await PGlite.create({ loadDataDir: new Blob([backup]) });
		const rows = (
			await copy.query<{ key: string; value: string }>("select key, value from settings")
		).rows;
		await copy.close();
		const sealed = rows.find((row) => row.key === "setup.bot_token")?.value as string;
		expect(sealed).toBeDefined();
		expect(await openSecret(secret, sealed)).toBe(tg.token);
		// Every stored setting, and every key-like run of characters anywhere in the backup, tried
		// as the key: none opens the token.
		const text = tar.toString("latin1");
		const candidates = new Set([
			...rows.map((row) => row.value),
			...(text.match(/[A-Za-z0-9_+/=-]{32,}/g) ?? []),
		]);
		// A generated key is 64 hex digits: every such window of a longer run too.
		for (const run of text.match(/[0-9a-f]{64,}/g) ?? [])
			for (let start = 0; start + 64 <= run.length; start++)
				candidates.add(run.slice(start, start + 64));
		let opened = 0;
		for (const candidate of candidates) if (await openSecret(candidate, sealed)) opened++;
		expect(opened).toBe(0);
		expect(desk.output()).not.toContain(secret);
		expect(desk.output()).not.toContain(tg.token);
		expect((await desk.stop()).code).toBe(0);

		// Restored into a fresh DATA_DIR without the key: the desk starts, but not the bot.
		const freshDir = tempDir("td-sealed-restored-");
		expect((await runCommand(["restore", file], embeddedEnv(freshDir))).code).toBe(0);
		const since = tg.calls.length;
		const restored = await startOn(freshDir);
		expect(await botDetail(restored.url)).toBe("disabled");
		expect(restored.output()).toContain("does not decrypt");
		expect(tg.calls.slice(since).map((call) => call.method)).not.toContain("getUpdates");
		expect(readFileSync(join(freshDir, "app-secret"), "utf8").trim()).not.toBe(secret);
		expect((await restored.stop()).code).toBe(0);

		// With the key put back beside it, the same restored desk runs the bot again.
		writeFileSync(join(freshDir, "app-secret"), `${secret}\n`, { mode: 0o600 });
		const keyed = await startOn(freshDir);
		await until(
			"the bot runs with its key back",
			async () => ((await botDetail(keyed.url)) === "polling" ? true : undefined),
			10_000,
		);
		expect((await keyed.stop()).code).toBe(0);
	}, 180_000);
});

describe("an app secret an earlier version stored in the database", () => {
	/** A database as an earlier version left it: its generated key in settings, a token sealed with it. */
	async function earlierDesk(): Promise<{ db: TestDatabase; legacy: string }> {
		const db = await freshDatabase();
		const database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
		try {
			await migrate(database);
			const legacy = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
			await database.query(sql`insert into settings (key, value) values ('app_secret', ${legacy})`);
			await insertStoredBot(database.db, legacy, { token: tg.token, groupId: tg.groupId });
			return { db, legacy };
		} finally {
			await database.close();
		}
	}

	async function start(db: TestDatabase, env: Record<string, string>) {
		const logged: string[] = [];
		const vars = testEnv({ db, env: { TELEGRAM_API_URL: tg.url, ...env } });
		const loaded = loadConfig(vars);
		if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
		const log = createLogger({ level: "info", json: true, write: (line) => logged.push(line) });
		const service = await startService(loaded.config, { pglite: db.pglite, log });
		services.push(service);
		return { service, logged, dataDir: vars.DATA_DIR as string };
	}

	const legacyRows = (service: RunningService) =>
		service.database.query<{ value: string }>(
			sql`select value from settings where key = 'app_secret'`,
		);

	if (!onPostgres)
		test("embedded: moved into DATA_DIR/app-secret (0600) and deleted; the saved bot still runs", async () => {
			const { db, legacy } = await earlierDesk();
			const { service, logged, dataDir } = await start(db, {});
			expect(readFileSync(join(dataDir, "app-secret"), "utf8").trim()).toBe(legacy);
			expect(mode(join(dataDir, "app-secret"))).toBe(0o600);
			expect(await legacyRows(service)).toEqual([]);
			expect(logged.join("\n")).toContain("setup.stored_bot");
			expect(logged.join("\n")).not.toContain(legacy);
			expect(await botDetail(service.url)).not.toBe("disabled");
		}, 60_000);

	if (onPostgres)
		test("PostgreSQL: refused without APP_SECRET (the query to read it, never the value), then moved out", async () => {
			const { db, legacy } = await earlierDesk();
			const refused = await start(db, { APP_SECRET: "" }).then(
				() => undefined,
				(error: unknown) => String(error),
			);
			expect(refused).toContain("Set APP_SECRET on every instance to that value");
			expect(refused).toContain("select value from settings where key = 'app_secret'");
			expect(refused).not.toContain(legacy);
			const { service, logged } = await start(db, { APP_SECRET: legacy });
			expect(await legacyRows(service)).toEqual([]);
			expect(logged.join("\n")).toContain("setup.stored_bot");
			expect(await botDetail(service.url)).not.toBe("disabled");
		}, 60_000);

	if (onPostgres)
		test("PostgreSQL: a new desk without APP_SECRET does not start, and says how to make one", async () => {
			const db = await freshDatabase();
			const run = await runCommand(["serve"], {
				DATABASE_URL: db.url as string,
				DATA_DIR: tempDir("td-nosecret-"),
				PORT: "0",
			});
			expect(run.code).toBe(1);
			expect(run.stderr).toContain("APP_SECRET is required with DATABASE_URL");
			expect(run.stderr).toContain("openssl rand -hex 32");
			await db.drop();
		}, 60_000);
});
