/**
 * Opens the database: PostgreSQL through postgres.js when a URL is configured, otherwise an
 * embedded PGlite persisted in the data directory. Both expose the same Drizzle API.
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { pgliteAssets } from "./pglite-assets.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** The Drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle: the same API as Db, scoped to one transaction. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface Database {
	db: Db;
	kind: "postgres" | "pglite";
	/** Runs raw SQL and returns its rows, whatever the driver's result shape. */
	query<T>(statement: SQL, executor?: Db | Tx): Promise<T[]>;
	/** A cheap round trip, for readiness checks. */
	ping(): Promise<boolean>;
	close(): Promise<void>;
	/** The postgres.js client, when on PostgreSQL (LISTEN/NOTIFY, advisory locks). */
	pg?: postgres.Sql;
	/** The PGlite instance, when embedded. */
	pglite?: PGlite;
}

export interface DatabaseOptions {
	databaseUrl?: string;
	dataDir: string;
	/** Pool size for PostgreSQL. */
	maxConnections?: number;
	/** An already booted PGlite (tests boot one per run). */
	pglite?: PGlite;
}

/** Normalises driver results: postgres.js returns an array, PGlite `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
	if (Array.isArray(result)) return result as T[];
	const rows = (result as { rows?: unknown }).rows;
	return Array.isArray(rows) ? (rows as T[]) : [];
}

/**
 * Seconds before reconnecting after failed attempts. postgres.js grows this to 20 s, so work
 * would resume up to 20 s after an outage ends; 2 s at most (jittered) instead.
 */
export const reconnectBackoff = (retries: number) =>
	(0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** retries, 2);

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
	if (options.databaseUrl) {
		const pg = postgres(options.databaseUrl, {
			max: options.maxConnections ?? 10,
			onnotice: () => {},
			backoff: reconnectBackoff,
			connection: { application_name: "topicdesk" },
		});
		const db = drizzlePostgres(pg, { schema, casing: "snake_case" }) as unknown as Db;
		return wrap(db, "postgres", () => pg.end({ timeout: 5 }), { pg });
	}
	let client = options.pglite;
	const owned = !client;
	if (!client) {
		mkdirSync(options.dataDir, { recursive: true });
		client = await PGlite.create({
			dataDir: `${options.dataDir}/pgdata`,
			...(await pgliteAssets()),
		});
	}
	const db = drizzlePglite(client, { schema, casing: "snake_case" }) as unknown as Db;
	const pglite = client;
	return wrap(db, "pglite", async () => (owned ? pglite.close() : undefined), { pglite });
}

function wrap(
	db: Db,
	kind: Database["kind"],
	close: () => Promise<void>,
	extra: Pick<Database, "pg" | "pglite">,
): Database {
	const query = async <T>(statement: SQL, executor: Db | Tx = db) =>
		rowsOf<T>(await executor.execute(statement));
	return {
		db,
		kind,
		query,
		async ping() {
			try {
				await db.execute(sql`select 1`);
				return true;
			} catch {
				return false;
			}
		},
		close,
		...extra,
	};
}
