/**
 * Hot statements as fixed SQL text with `$n` parameters, prepared once per connection
 * (postgres.js `unsafe(…, { prepare: true })`; PGlite's extended protocol), instead of being
 * rebuilt by Drizzle's SQL builder and sent unprepared (Parse + Describe + a second round trip)
 * on every call. Works on the database handle and inside a Drizzle transaction alike.
 *
 * Parameters are passed as text and cast in SQL (`$1::text::bigint[]`), so both drivers send
 * them as they are: arrays as `{1,2}` literals (`arrayLiteral`), JSON as its text.
 */
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type postgres from "postgres";
import type { Db, Tx } from "./client.ts";

type RawClient = postgres.Sql | PGlite | Transaction;

const rawClient = (executor: Db | Tx): RawClient =>
	(executor as unknown as { session: { client: RawClient } }).session.client;

export type Param = string | number | boolean | null;

export async function prepared<T>(
	executor: Db | Tx,
	text: string,
	params: readonly Param[],
): Promise<T[]> {
	const client = rawClient(executor);
	if ("unsafe" in client)
		return (await client.unsafe(text, params as Param[], { prepare: true })) as unknown as T[];
	const result = await client.query<T>(text, params as Param[]);
	return result.rows;
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

/** A timestamp column of a raw row (a Date from both drivers, text when cast), or null. */
export const dateOrNull = (value: Date | string | null) =>
	value == null ? null : value instanceof Date ? value : new Date(value);
