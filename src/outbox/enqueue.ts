/**
 * Files outbox items in the caller's transaction. Every writer of outbox rows outside the
 * worker files them here, so each item gets its route and priority (routing.ts) and its queue's
 * head (see src/db/functions/outbox.sql) the same way.
 */
import type { Database, Tx } from "../db/client.ts";
import { arrayLiteral, quotedArrayLiteral, runFixed } from "../db/raw-sql.ts";
import { NO_CUSTOMER_QUEUE, type OutboxItem, type OwedItem } from "./items.ts";
import { outboxRouting, URGENT_PRIORITY } from "./routing.ts";

/**
 * The steps that file items and head their queues, as common table expressions over `source`, a
 * relation of (customer_id, kind, payload as JSON text, target, priority, n): the items are filed
 * in the order of `n`, and the first of each idle queue becomes its head. The upsert locks the
 * head rows (in key order) even when it changes nothing, so a finish of the same queue (which
 * locks the head first) waits for this commit and then sees the item. A head carries its
 * customer's support group (`group_id`, 0 for the default group and for notices about no
 * customer), whose budget the claim serves it from. `heads` returns one row per queue whose head
 * it set. Every statement that files items is built from these steps.
 */
export const enqueueSteps = (source: string) => `filed as (
	insert into outbox (customer_id, kind, payload, target, priority)
	select customer_id, kind, payload::jsonb, target, priority from ${source} order by n
	returning id, customer_id, target, priority, next_attempt_at
), heads as (
	insert into outbox_heads as h (customer_id, head_id, target, priority, ready_at, group_id)
	select distinct on (queue) queue, id, target, priority, next_attempt_at,
		coalesce((select c.group_id from customers c where c.id = f.customer_id), 0)
	from (select coalesce(customer_id, '${NO_CUSTOMER_QUEUE}'::uuid) as queue, * from filed) f
	order by queue, greatest(priority, ${URGENT_PRIORITY}), id
	on conflict (customer_id) do update set head_id = excluded.head_id, target = excluded.target,
		priority = excluded.priority, ready_at = excluded.ready_at, group_id = excluded.group_id
	where h.head_id is null or (h.priority > ${URGENT_PRIORITY}
		and excluded.priority < h.priority and h.ready_at <= clock_timestamp())
	returning h.customer_id
)`;

/**
 * Files items of any queues. Parameters, one array element per item: customer id (or null),
 * kind, payload as JSON text, target, priority. Returns one row per queue whose head it set.
 */
export const ENQUEUE_SQL = `with i as (
	select * from unnest($1::text::uuid[], $2::text::text[], $3::text::text[], $4::text::text[],
		$5::text::int[]) with ordinality as i(customer_id, kind, payload, target, priority, n)
), ${enqueueSteps("i")}
select customer_id from heads`;

/** The parameters of ENQUEUE_SQL for these items. */
export function enqueueParams(owed: readonly OwedItem[]) {
	const routed = owed.map(({ customerId, item }) => {
		const { kind, ...payload } = item;
		return { customerId, kind, payload: JSON.stringify(payload), ...outboxRouting(kind) };
	});
	return [
		quotedArrayLiteral(routed.map((entry) => entry.customerId)),
		quotedArrayLiteral(routed.map((entry) => entry.kind)),
		quotedArrayLiteral(routed.map((entry) => entry.payload)),
		quotedArrayLiteral(routed.map((entry) => entry.target)),
		arrayLiteral(routed.map((entry) => entry.priority)),
	] as const;
}

/**
 * Files items of many queues in one statement, in the order given (`ENQUEUE_SQL`): in the
 * caller's transaction, or as a statement of its own (a delivery that owes something more and
 * has nothing else to write). True when every item became its queue's head, false when one waits
 * behind another item: the caller wakes the worker after its commit, saying so.
 * @example await enqueueAll(tx, [{ customerId, item: { kind: "card" } }]) // true on an idle queue
 */
export async function enqueueAll(
	executor: Database | Tx,
	owed: readonly OwedItem[],
): Promise<boolean> {
	if (owed.length === 0) return true;
	const heads = await runFixed(executor, ENQUEUE_SQL, enqueueParams(owed));
	return heads.length === owed.length;
}

/** Files one item in the caller's transaction; true when it became its queue's head. */
export function enqueueOutbox(tx: Tx, customerId: string | null, item: OutboxItem) {
	return enqueueAll(tx, [{ customerId, item }]);
}
