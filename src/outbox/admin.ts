/**
 * Operators' handle on the outbox (/retry), and the writes that keep `outbox_heads` true for
 * the paths that move or revive a queue's items outside the worker: merge, erasure, revive.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { arrayLiteral, rawQuery } from "../db/raw-sql.ts";
import { outbox } from "../db/schema.ts";
import { NO_CUSTOMER_QUEUE } from "./items.ts";

/** The part of a command's unit of work that /retry needs (the core's `Work` fits). */
export interface OutboxWork {
	tx: Tx;
	/** Queued work changed: the worker is woken after the commit. */
	outboxChanged(): void;
	/** Files the items owed so far, so that the heads recomputed here count them. */
	fileOwed(): Promise<void>;
}

const queuesOf = (customerIds: readonly (string | null)[]) =>
	[...new Set(customerIds.map((id) => id ?? NO_CUSTOMER_QUEUE))].sort();

/**
 * Locks the heads of these customers' queues (key order), before a change that moves or deletes
 * their items (merge): every writer of a queue locks its head first, so nobody deadlocks.
 */
export async function lockOutboxHeads(tx: Tx, customerIds: readonly (string | null)[]) {
	await rawQuery(
		tx,
		"select 1 from outbox_heads where customer_id in (select unnest($1::text::uuid[])) order by customer_id for update",
		[arrayLiteral(queuesOf(customerIds))],
	);
}

/**
 * Recomputes the heads of these customers' queues from their items (after a merge, an erasure,
 * a revive): the item in flight stays the head, else the oldest pending item, else none.
 */
export async function syncOutboxHeads(tx: Tx, customerIds: readonly (string | null)[]) {
	for (const queue of queuesOf(customerIds))
		await rawQuery(tx, "select outbox_head_sync($1::uuid)", [queue]);
}

/** Puts the customer's dead items back in the queue, in their original order; returns how many. */
export async function retryDead(work: OutboxWork, customerId: string): Promise<number> {
	await work.fileOwed();
	await lockOutboxHeads(work.tx, [customerId]);
	const revived = await work.tx
		.update(outbox)
		.set({ state: "pending", attempts: 0, nextAttemptAt: sql`now()`, lastError: null })
		.where(and(eq(outbox.customerId, customerId), eq(outbox.state, "dead")))
		.returning({ id: outbox.id });
	// An item in flight stays the head: the revived ones follow it (one in flight per customer).
	if (revived.length > 0) {
		await syncOutboxHeads(work.tx, [customerId]);
		work.outboxChanged();
	}
	return revived.length;
}

/**
 * The customer's queue now draws from another group's budget (`/move`): its head carries that
 * group's key (`outbox_heads.group_id`, 0 for the default group), so the claim of that group
 * serves it. Only the head row changes: the items stay in their order.
 */
export async function moveOutboxQueue(tx: Tx, customerId: string, groupKey: number) {
	await rawQuery(tx, "update outbox_heads set group_id = $2::bigint where customer_id = $1::uuid", [
		customerId,
		groupKey,
	]);
}
