/**
 * A clean database for one test file, on whichever engine the run uses: a new PostgreSQL database
 * per file when DATABASE_URL is set, otherwise the run's shared PGlite with every table emptied.
 */
import { afterAll, beforeAll } from "bun:test";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";

export interface TestDatabase {
	/** Set on PostgreSQL: the URL of this file's own database. */
	url?: string;
	/** Set on PGlite: the run's shared instance. */
	pglite?: PGlite;
	engine: "postgres" | "pglite";
	drop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

/** Opens an admin connection to the server named by DATABASE_URL. */
function admin() {
	return postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
}

/** A fresh, empty database URL on the test server (PostgreSQL runs only). */
export async function createPostgresDatabase(): Promise<string> {
	const name = `td_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
	const sql = admin();
	try {
		await sql.unsafe(`create database ${name}`);
	} finally {
		await sql.end();
	}
	const url = new URL(process.env.DATABASE_URL as string);
	url.pathname = `/${name}`;
	return url.toString();
}

export async function dropPostgresDatabase(url: string) {
	const name = new URL(url).pathname.slice(1);
	const sql = admin();
	try {
		await sql.unsafe(`drop database if exists ${name} with (force)`);
	} finally {
		await sql.end();
	}
}

export async function sharedPglite(): Promise<PGlite> {
	const booting = globalThis.__topicdeskPglite;
	if (!booting) throw new Error("PGlite was not booted by tests/support/preload.ts");
	return booting;
}

export async function freshDatabase(): Promise<TestDatabase> {
	if (onPostgres) {
		const url = await createPostgresDatabase();
		return { url, engine: "postgres", drop: () => dropPostgresDatabase(url) };
	}
	const pglite = await sharedPglite();
	const database = await openDatabase({ dataDir: "", pglite });
	await migrate(database);
	const tables = await pglite.query<{ tablename: string }>(
		"select tablename from pg_tables where schemaname = 'public' and tablename <> 'topicdesk_migrations'",
	);
	if (tables.rows.length) {
		await pglite.exec(
			`truncate ${tables.rows.map((row) => `"${row.tablename}"`).join(", ")} restart identity cascade`,
		);
	}
	return { pglite, engine: "pglite", drop: async () => {} };
}

/**
 * A fresh, migrated database opened for the whole test file (tests of the outbox and the core
 * that need no running service). The getter is valid from `beforeAll` on.
 */
export function useMigratedDatabase(): () => Database {
	let db: TestDatabase | undefined;
	let database: Database | undefined;
	beforeAll(async () => {
		db = await freshDatabase();
		database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
		await migrate(database);
	});
	afterAll(async () => {
		await database?.close();
		await db?.drop();
	});
	return () => database as Database;
}

/** A bare customer row (no session, no topic); returns its id. */
export async function insertCustomer(database: Database, name: string): Promise<string> {
	const [row] = await database.query<{ id: string }>(
		sql`insert into customers (display_name) values (${name}) returning id`,
	);
	return row?.id as string;
}
