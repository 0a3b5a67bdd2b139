/**
 * The outbox's functions reach rows by key only (src/db/functions/outbox.sql), on PGlite and PostgreSQL. Their
 * plans are made once per session, and a plan made while a table is small would read it whole
 * on every later call until new statistics replan it. Each function runs in one transaction
 * whose own statistics (`pg_stat_xact_user_tables`) then show how many times `outbox` and
 * `outbox_heads` were read whole: never.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Tx } from "../../src/db/client.ts";
import { enqueueOutbox } from "../../src/outbox/enqueue.ts";
import { insertCustomer, useMigratedDatabase } from "../support/db.ts";

const database = useMigratedDatabase();

interface Counts {
	seq: number;
	idx: number;
}

const OUTBOX_TABLES = ["outbox", "outbox_heads"];

/** The whole-table and index reads of `tables` this session has not reported yet. */
async function counts(tx: Tx, tables: string[]): Promise<Counts> {
	const [row] = await database().query<{ seq: number | string; idx: number | string }>(
		sql`select coalesce(sum(seq_scan), 0) as seq, coalesce(sum(idx_scan), 0) as idx
			from pg_stat_xact_user_tables where relname = any(${`{${tables.join(",")}}`}::text[])`,
		tx,
	);
	return { seq: Number(row?.seq), idx: Number(row?.idx) };
}

/**
 * Runs `work` in a transaction; the reads of `tables` it made. (Since PostgreSQL 15 the "xact"
 * view also holds the session's earlier reads not yet reported, hence the difference.)
 */
async function scansOf(
	work: (tx: Tx) => Promise<unknown>,
	tables = OUTBOX_TABLES,
): Promise<Counts> {
	return database().db.transaction(async (tx) => {
		const before = await counts(tx, tables);
		await work(tx);
		const after = await counts(tx, tables);
		return { seq: after.seq - before.seq, idx: after.idx - before.idx };
	});
}

async function pendingIds(customerId: string): Promise<number[]> {
	const rows = await database().query<{ id: number | string }>(
		sql`select id from outbox where customer_id = ${customerId} and state = 'pending' order by id`,
	);
	return rows.map((row) => Number(row.id));
}

describe("outbox functions read by key", () => {
	test("finish, requeue, renew and dead never read outbox or its heads whole", async () => {
		const { db, query } = database();
		const customers = [
			await insertCustomer(database(), "a"),
			await insertCustomer(database(), "b"),
		];
		// Small tables, as in a new session on a young desk: the case a cached plan would scan.
		await db.transaction(async (tx) => {
			for (const customerId of customers)
				for (let i = 0; i < 4; i++)
					await enqueueOutbox(tx, customerId, { kind: "topic_text", text: `notice ${i}` });
		});
		const [a, b] = await Promise.all(customers.map(pendingIds));
		const first = [a?.[0] as number, b?.[0] as number];
		const array = (ids: number[]) => `{${ids.join(",")}}`;

		const calls: [string, (tx: Tx) => Promise<unknown>][] = [
			[
				"renew",
				(tx) =>
					query(
						sql`select outbox_renew(${array(first)}::bigint[], now() + interval '1 minute')`,
						tx,
					),
			],
			[
				"requeue",
				(tx) => query(sql`select outbox_requeue(${array(first)}::bigint[], now(), 'again', 1)`, tx),
			],
			["finish", (tx) => query(sql`select outbox_finish(${array(first)}::bigint[])`, tx)],
			["dead", (tx) => query(sql`select outbox_dead(${b?.[1] as number}, 'gone', null)`, tx)],
		];
		for (const [name, call] of calls) {
			// Three times each: a session caches a function's plans after its first calls.
			for (let i = 0; i < 3; i++) {
				const counts = await scansOf(call);
				expect({ name, seq: counts.seq }).toEqual({ name, seq: 0 });
				expect(counts.idx).toBeGreaterThan(0);
			}
		}
		// They did their work: the first items are done, the dead one is dead.
		const states = await query<{ id: number | string; state: string }>(
			sql`select id, state from outbox where id in (${first[0]}, ${first[1]}, ${b?.[1] as number}) order by id`,
		);
		expect(states.map((row) => row.state).sort()).toEqual(["dead", "done", "done"]);
	});
});
