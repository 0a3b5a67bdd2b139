/**
 * Statements kept as fixed SQL text with `$n` parameters (set forms over arrays, CTE chains that
 * Drizzle's builder cannot express). Inside a transaction they run through Drizzle's `sql` and
 * `execute` like any other statement (`rawQuery`); outside one, through the driver's own
 * documented call with the statement prepared once per connection (`rawStatement`): PostgreSQL
 * then neither parses nor plans it again, and postgres.js skips the round trip in which it
 * describes an unnamed statement before running it.
 *
 * Parameters are passed as text and cast in SQL (`$1::text::bigint[]`), so both drivers send
 * them as they are: arrays as `{1,2}` literals (`arrayLiteral`), JSON as its text. A cast from
 * text is stable, not constant: in a filter (`id = any($1::text::uuid[])`) a sequential scan would
 * parse the literal again for every row it reads (a young table without statistics is scanned
 * so). Keys to match are therefore unnested once (`id in (select unnest($1::text::uuid[]))`).
 */
import { type SQL, sql } from "drizzle-orm";
import type { Database, Db, Tx } from "./client.ts";

export type Param = string | number | boolean | null;

/** The text between the `$n` markers and the marker numbers, parsed once per statement text. */
const parsed = new Map<string, { parts: string[]; slots: number[] }>();

function parse(text: string) {
	let found = parsed.get(text);
	if (!found) {
		const pieces = text.split(/\$(\d+)/);
		found = {
			parts: pieces.filter((_, index) => index % 2 === 0),
			slots: pieces.filter((_, index) => index % 2 === 1).map((slot) => Number(slot) - 1),
		};
		parsed.set(text, found);
	}
	return found;
}

/** The statement as Drizzle SQL: each `$n` becomes a parameter holding `params[n - 1]`. */
export function sqlOf(text: string, params: readonly Param[]): SQL {
	const { parts, slots } = parse(text);
	const chunks: SQL[] = [];
	parts.forEach((part, index) => {
		chunks.push(sql.raw(part));
		const slot = slots[index];
		if (slot !== undefined) chunks.push(sql`${params[slot] ?? null}`);
	});
	return sql.join(chunks);
}

/** Runs a fixed statement and returns its rows (postgres.js gives an array, PGlite `{ rows }`). */
export async function rawQuery<T>(
	executor: Db | Tx,
	text: string,
	params: readonly Param[],
): Promise<T[]> {
	const result = (await executor.execute(sqlOf(text, params))) as unknown;
	if (Array.isArray(result)) return result as T[];
	return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * Runs a fixed statement outside any transaction, prepared once per connection: postgres.js
 * `unsafe(text, params, { prepare: true })`, or PGlite's `query` (extended protocol, in-process).
 * For statements that run often (the outbox's claims and finishes, the timer worker's look-ahead).
 */
export async function rawStatement<T>(
	database: Database,
	text: string,
	params: readonly Param[],
): Promise<T[]> {
	if (database.pg)
		return (await database.pg.unsafe(text, params as Param[], { prepare: true })) as unknown as T[];
	if (database.pglite) return (await database.pglite.query<T>(text, params as Param[])).rows;
	return rawQuery<T>(database.db, text, params);
}

/**
 * Runs a fixed statement on its own (`Database`: autocommit, prepared once per connection) or in
 * the caller's transaction (`Tx`: as the transaction's other statements).
 */
export function runFixed<T>(executor: Database | Tx, text: string, params: readonly Param[]) {
	return "db" in executor
		? rawStatement<T>(executor, text, params)
		: rawQuery<T>(executor, text, params);
}

/** A PostgreSQL array literal of plain tokens (numbers, uuids, simple words): `{1,2,3}`. */
export const arrayLiteral = (values: readonly (string | number)[]) => `{${values.join(",")}}`;

/**
 * A PostgreSQL array literal of any texts, each quoted (backslash and double quote escaped), null
 * as `NULL`: `{"say \"hi\"",NULL}`. For arrays of client text, where a comma, brace or quote is data.
 */
export const quotedArrayLiteral = (values: readonly (string | null)[]) =>
	`{${values.map((value) => (value === null ? "NULL" : `"${value.replace(/["\\]/g, "\\$&")}"`)).join(",")}}`;

/** A bigint column of a raw row (postgres.js gives text, PGlite a number), or null. */
export const numberOrNull = (value: number | string | null) =>
	value == null ? null : Number(value);

/** A timestamp column of a raw row (a Date or its text, by driver), or null. */
export const dateOrNull = (value: Date | string | null) =>
	value == null ? null : value instanceof Date ? value : new Date(value);
