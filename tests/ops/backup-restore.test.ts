/**
 * The subcommands: version and help, migrate, and backup/restore of the embedded database while
 * the service runs and takes messages. Children run on PGlite whatever the suite's
 * engine, since backup/restore are about the embedded database; with DATABASE_URL they point to
 * pg_dump / pg_restore.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { VERSION } from "../../src/version.ts";
import { type ChildService, spawnService, tempDir } from "../support/process.ts";
import { writeConfigFile } from "../support/service.ts";
import { api, type Envelope, initSession } from "../support/web-client.ts";
import { entry, runCommand } from "./cli.ts";

const children: ChildService[] = [];
afterAll(async () => {
	for (const child of children) if (child.proc.exitCode === null) await child.stop();
});

const configFile = writeConfigFile({
	rateLimits: { init: 100_000, message: 100_000, read: 100_000 },
});
const embeddedEnv = (dataDir: string) => ({
	DATA_DIR: dataDir,
	CONFIG_FILE: configFile,
	LOG_LEVEL: "warn",
});

async function startOn(dataDir: string) {
	const child = await spawnService(["bun", "run", entry], embeddedEnv(dataDir), {
		readyPath: "/health/ready",
		timeoutMs: 60_000,
	});
	children.push(child);
	return child;
}

describe("version and help", () => {
	test("version prints the package version; --help lists every command; unknown commands fail", async () => {
		const version = await runCommand(["version"], {});
		expect(version.code).toBe(0);
		expect(version.stdout.trim()).toBe(VERSION);
		const help = await runCommand(["--help"], {});
		expect(help.code).toBe(0);
		for (const command of [
			"serve",
			"migrate",
			"doctor",
			"backup <file>",
			"restore <file>",
			"version",
		])
			expect(help.stdout).toContain(command);
		const unknown = await runCommand(["frobnicate"], {});
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('unknown command "frobnicate"');
	}, 30_000);
});

describe("with DATABASE_URL", () => {
	test("backup and restore point to pg_dump / pg_restore and exit 1", async () => {
		const env = { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", DATA_DIR: tempDir("td-pg-") };
		const saved = await runCommand(["backup", "x.tar.gz"], env);
		expect(saved.code).toBe(1);
		expect(saved.stderr).toContain("pg_dump");
		const restored = await runCommand(["restore", "x.tar.gz"], env);
		expect(restored.code).toBe(1);
		expect(restored.stderr).toContain("pg_restore");
	}, 30_000);
});

describe("migrate", () => {
	test("migrates an empty DATA_DIR, then says it is up to date", async () => {
		const env = embeddedEnv(tempDir("td-migrate-"));
		const first = await runCommand(["migrate"], env);
		expect(first.code).toBe(0);
		expect(first.stdout).toContain("applied 0000_init");
		const second = await runCommand(["migrate"], env);
		expect(second.stdout).toContain("already up to date");
	}, 60_000);
});

describe("backup and restore of the embedded database", () => {
	test("a backup taken under load restores every message acknowledged before it", async () => {
		const dataDir = tempDir("td-live-");
		const live = await startOn(dataDir);

		// Load: five customers post messages one after another until told to stop.
		const sessions = await Promise.all(
			Array.from({ length: 5 }, () => initSession(live.url).then((s) => s.sessionId)),
		);
		const acked: { session: string; text: string }[] = [];
		const sent = new Set<string>();
		let loading = true;
		const load = sessions.map(async (session, customer) => {
			for (let n = 0; loading; n++) {
				const text = `customer ${customer} message ${n}`;
				sent.add(text);
				const response = await api<Envelope>(live.url, "POST", "/api/chat/message", {
					session,
					body: { text, clientMessageId: `c${customer}-${n}` },
				});
				if (response.status === 201) acked.push({ session, text });
			}
		});
		while (acked.length < 40) await Bun.sleep(20);

		// Refused while the service runs: restore and migrate never touch a live DATA_DIR.
		const file = join(tempDir("td-backup-"), "topicdesk.tar.gz");
		// Everything acknowledged so far came before the backup starts (a millisecond clock cannot
		// tell apart acknowledgements made in the same millisecond as the start).
		const ackedBeforeBackup = acked.length;
		const saved = await runCommand(["backup", file], embeddedEnv(dataDir));
		const ackedAfterBackup = acked.length;
		expect(saved.code).toBe(0);
		expect(saved.stdout).toContain(`wrote ${file}`);
		const refused = await runCommand(["restore", file], embeddedEnv(dataDir));
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain("is running");
		const migrateRefused = await runCommand(["migrate"], embeddedEnv(dataDir));
		expect(migrateRefused.code).toBe(1);
		expect(migrateRefused.stderr).toContain("in use by another topicdesk process");
		// A second service on the same DATA_DIR would corrupt the embedded database: it refuses.
		const second = await runCommand(["serve"], { ...embeddedEnv(dataDir), PORT: "0" });
		expect(second.code).toBe(1);
		expect(second.stderr).toContain("in use by another topicdesk process");
		// The load kept running during the backup.
		while (acked.length < ackedAfterBackup + 10) await Bun.sleep(20);
		loading = false;
		await Promise.all(load);
		const mustHave = acked.slice(0, ackedBeforeBackup);
		expect(mustHave.length).toBeGreaterThanOrEqual(40);

		// A truncated copy is refused before anything is written.
		const truncated = `${file}.cut`;
		const bytes = readFileSync(file);
		writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
		const emptyDir = tempDir("td-cut-");
		const cut = await runCommand(["restore", truncated], embeddedEnv(emptyDir));
		expect(cut.code).toBe(1);
		expect(cut.stderr).toContain("cannot be restored");
		expect(cut.stderr).toContain("Nothing was changed");
		expect(existsSync(join(emptyDir, "pgdata"))).toBe(false);
		const garbage = `${file}.txt`;
		writeFileSync(garbage, "not a backup at all");
		expect((await runCommand(["restore", garbage], embeddedEnv(emptyDir))).code).toBe(1);

		// Restored into a fresh DATA_DIR, the service starts there with every acknowledged message.
		const freshDir = tempDir("td-restored-");
		const restored = await runCommand(["restore", file], embeddedEnv(freshDir));
		expect(restored.stderr).toBe("");
		expect(restored.code).toBe(0);
		await live.stop();
		const copy = await startOn(freshDir);
		const texts = new Set<string>();
		for (const session of sessions) {
			let after: string | undefined;
			for (;;) {
				const page = await api<
					Envelope<{ messages: { text: string; id: string }[]; hasMore: boolean }>
				>(copy.url, "GET", `/api/chat/history?limit=100${after ? `&after=${after}` : ""}`, {
					session,
				});
				expect(page.status).toBe(200);
				for (const message of page.body.data.messages) texts.add(message.text);
				if (!page.body.data.hasMore || page.body.data.messages.length === 0) break;
				after = page.body.data.messages.at(-1)?.id;
			}
		}
		for (const message of mustHave) expect(texts).toContain(message.text);
		// Nothing in the copy that was never sent.
		for (const text of texts) expect(sent).toContain(text);
		expect((await copy.stop()).code).toBe(0);
	}, 180_000);
});

describe("backup files and restore over a database", () => {
	test("a backup is readable by its owner only; restore leaves no copy of the database it replaced", async () => {
		const dataDir = tempDir("td-over-");
		const env = embeddedEnv(dataDir);
		expect((await runCommand(["migrate"], env)).code).toBe(0);
		const file = join(tempDir("td-backup-"), "topicdesk.tar.gz");
		// A world-readable leftover of an interrupted backup must not lend the backup its mode.
		writeFileSync(`${file}.partial`, "left over", { mode: 0o644 });
		const saved = await runCommand(["backup", file], env);
		expect(saved.code).toBe(0);
		expect(statSync(file).mode & 0o777).toBe(0o600);
		expect(existsSync(`${file}.partial`)).toBe(false);

		// Written after the backup: the restore must take it away, leaving no copy of it behind.
		const later = `written after the backup ${crypto.randomUUID()}`;
		const pglite = await PGlite.create({ dataDir: join(dataDir, "pgdata") });
		await pglite.query("insert into settings (key, value) values ('later', $1)", [later]);
		await pglite.close();

		const restored = await runCommand(["restore", file], env);
		expect(restored.stderr).toBe("");
		expect(restored.code).toBe(0);
		expect(readdirSync(dataDir).filter((name) => name.startsWith("pgdata."))).toEqual([]);
		const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((entry) =>
			entry.isFile(),
		);
		for (const entry of files)
			expect(readFileSync(join(entry.parentPath, entry.name)).includes(later)).toBe(false);
		const reopened = await PGlite.create({ dataDir: join(dataDir, "pgdata") });
		const rows = await reopened.query("select 1 from settings where key = 'later'");
		await reopened.close();
		expect(rows.rows).toEqual([]);
	}, 120_000);
});
