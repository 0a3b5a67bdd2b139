import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { migrations as embedded } from "../../drizzle/migrations.ts";
import { renderMigrationsModule } from "../../scripts/embed-migrations.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { isMigrated, migrate } from "../../src/db/migrate.ts";
import { createPostgresDatabase, dropPostgresDatabase, onPostgres } from "../support/db.ts";
import { tempDir } from "../support/process.ts";
import { startTestService } from "../support/service.ts";
import { api, type Envelope, initSession } from "../support/web-client.ts";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A brand-new empty database on the run's engine; PGlite gets its own data directory. */
async function emptyDatabase(): Promise<{
	open: () => Promise<Database>;
	env: { url?: string; dataDir: string };
}> {
	const dataDir = tempDir("topicdesk-db-");
	const url = onPostgres ? await createPostgresDatabase() : undefined;
	if (url) cleanups.push(() => dropPostgresDatabase(url));
	return { open: () => openDatabase({ databaseUrl: url, dataDir }), env: { url, dataDir } };
}

describe("migrations", () => {
	test("apply once to an empty database, then are current", async () => {
		const { open } = await emptyDatabase();
		const database = await open();
		try {
			expect(await isMigrated(database)).toBe(false);
			expect(await migrate(database)).toEqual(embedded.map((m) => m.tag));
			expect(embedded[0]?.tag).toBe("0000_init");
			expect(await migrate(database)).toEqual([]);
			expect(await isMigrated(database)).toBe(true);
			const tables = await database.query<{ tablename: string }>(
				sql`select tablename from pg_tables where schemaname = 'public' order by tablename`,
			);
			expect(tables.map((t) => t.tablename)).toEqual(
				expect.arrayContaining([
					"customers",
					"web_sessions",
					"messages",
					"message_copies",
					"outbox",
					"processed_updates",
					"settings",
					"ticket_events",
				]),
			);
		} finally {
			await database.close();
		}
	}, 60_000);

	test("the embedded migrations module matches drizzle/meta/_journal.json", () => {
		const onDisk = readFileSync(join(import.meta.dir, "../../drizzle/migrations.ts"), "utf8");
		const squash = (text: string) => text.replace(/\s+/g, "");
		expect(squash(onDisk)).toBe(squash(renderMigrationsModule()));
	});

	test("a restart on an existing database keeps every message", async () => {
		const { env } = await emptyDatabase();
		const run = () =>
			startTestService({
				db: { url: env.url, engine: onPostgres ? "postgres" : "pglite", drop: async () => {} },
				env: { DATA_DIR: env.dataDir },
			});
		const first = await run();
		const { sessionId } = await initSession(first.url);
		for (const text of ["one", "two"]) {
			const sent = await api(first.url, "POST", "/api/chat/message", {
				session: sessionId,
				body: { text },
			});
			expect(sent.status).toBe(201);
		}
		await first.stop();
		const second = await run();
		try {
			const history = await api<Envelope<{ messages: { text: string }[] }>>(
				second.url,
				"GET",
				"/api/chat/history",
				{ session: sessionId },
			);
			expect(history.status).toBe(200);
			expect(history.body.data.messages.map((m) => m.text)).toEqual(["two", "one"]);
		} finally {
			await second.stop();
		}
	}, 60_000);
});
