/**
 * Files an outbox item in the caller's transaction. Every writer of outbox rows outside the
 * worker files them here, so each item gets its route and priority (routing.ts) and its queue's
 * head (see src/db/functions/outbox.sql) the same way.
 */
import type { Tx } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { NO_CUSTOMER_QUEUE, type OutboxItem } from "./items.ts";
import { outboxRouting } from "./routing.ts";

/**
 * Files an item and, when its queue is idle, makes it the queue's head, in one statement of the
 * caller's transaction. The upsert locks the head row even when it changes nothing, so a finish
 * of the same queue (which locks the head first) waits for this commit and then sees the item.
 * Parameters: customer id (or null), kind, payload as JSON text, target, priority. Returns a row
 * when the item became its queue's head, none when it waits behind another.
 */
export const ENQUEUE_SQL = `with o as (
	insert into outbox (customer_id, kind, payload, target, priority)
	values ($1::uuid, $2::text, $3::text::jsonb, $4::text, $5::int)
	returning id, next_attempt_at
)
insert into outbox_heads as h (customer_id, head_id, target, priority, ready_at)
select coalesce($1::uuid, '${NO_CUSTOMER_QUEUE}'::uuid), o.id, $4::text, $5::int, o.next_attempt_at from o
on conflict (customer_id) do update set head_id = excluded.head_id, target = excluded.target,
	priority = excluded.priority, ready_at = excluded.ready_at
where h.head_id is null
returning h.customer_id`;

/** The parameters of ENQUEUE_SQL for one item. */
export function enqueueParams(customerId: string | null, item: OutboxItem) {
	const { kind, ...payload } = item;
	const { target, priority } = outboxRouting(kind);
	return [customerId, kind, JSON.stringify(payload), target, priority] as const;
}

/**
 * Files one item in the caller's transaction; its queue's head follows (`ENQUEUE_SQL`). True
 * when the item became its queue's head, false when it waits behind another item. The caller
 * wakes the worker after its commit, saying whether anything waits behind a head (the unit of
 * work does).
 * @example await enqueueOutbox(tx, customerId, { kind: "card" }) // true on an idle queue
 */
export async function enqueueOutbox(
	tx: Tx,
	customerId: string | null,
	item: OutboxItem,
): Promise<boolean> {
	const rows = await prepared(tx, ENQUEUE_SQL, enqueueParams(customerId, item));
	return rows.length > 0;
}
