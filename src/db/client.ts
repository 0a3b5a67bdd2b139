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
	/**
	 * The web hot path's own connections (`HOT_CONNECTIONS`; on PGlite the one `db`): a visitor's
	 * message is stored without queueing behind delivery, timers and Telegram updates, which share
	 * the main pool (a burst of new customers' topics kept all ten connections busy).
	 */
	hot: Db;
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

/** Connections of the web hot path's own pool (`Database.hot`), on PostgreSQL. */
export const HOT_CONNECTIONS = 2;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
	if (options.databaseUrl) {
		const client = (max: number, name: string) =>
			postgres(options.databaseUrl as string, {
				max,
				onnotice: () => {},
				backoff: reconnectBackoff,
				connection: { application_name: name },
			});
		const pg = client(options.maxConnections ?? 10, "topicdesk");
		const hotPg = client(HOT_CONNECTIONS, "topicdesk-hot-path");
		const drizzled = (sql: postgres.Sql) =>
			drizzlePostgres(namedStatements(sql), { schema, casing: "snake_case" }) as unknown as Db;
		const close = async () => {
			await Promise.all([pg.end({ timeout: 5 }), hotPg.end({ timeout: 5 })]);
		};
		return wrap(drizzled(pg), drizzled(hotPg), "postgres", close, { pg });
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
	return wrap(db, db, "pglite", async () => (owned ? pglite.close() : undefined), { pglite });
}

/**
 * Drizzle runs its statements unnamed (postgres.js `prepare: false`), and postgres.js describes
 * an unnamed statement with parameters before it runs it: every Drizzle query made two round
 * trips, and PostgreSQL parsed and planned it every time. A new customer's topic, card and ticket
 * take about twenty such statements. Named, a statement is parsed once per connection and runs in
 * one round trip. postgres.js keeps them per connection, and connections are replaced after 30–60
 * minutes (its `max_lifetime`), which bounds the cache; Drizzle's statement texts come from a
 * fixed set of query shapes (lists in `inArray` are short and fixed). The same holds inside
 * transactions and savepoints, which hand Drizzle another client.
 */
export function namedStatements(sql: postgres.Sql): postgres.Sql {
	// Made once per client, not on every statement: the hot statements pass through here too, and
	// they ask for `prepare` themselves (db/prepared.ts), so their options are passed on as they are.
	const unsafe = (text: string, params?: unknown[], options?: { prepare?: boolean }) =>
		sql.unsafe(text, params as never, options?.prepare ? options : { ...options, prepare: true });
	const opening =
		(name: "begin" | "savepoint") =>
		(...args: unknown[]) => {
			const body = args.pop() as (inner: postgres.Sql) => unknown;
			const open = Reflect.get(sql, name) as (...args: unknown[]) => Promise<unknown>;
			return open(...args, (inner: postgres.Sql) => body(namedStatements(inner)));
		};
	const own: Record<PropertyKey, unknown> = {
		unsafe,
		begin: opening("begin"),
		savepoint: opening("savepoint"),
	};
	return new Proxy(sql, {
		get: (target, property, receiver) =>
			Object.hasOwn(own, property) && property in target
				? own[property]
				: Reflect.get(target, property, receiver),
	});
}

function wrap(
	db: Db,
	hot: Db,
	kind: Database["kind"],
	close: () => Promise<void>,
	extra: Pick<Database, "pg" | "pglite">,
): Database {
	const query = async <T>(statement: SQL, executor: Db | Tx = db) =>
		rowsOf<T>(await executor.execute(statement));
	return {
		db,
		hot,
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
