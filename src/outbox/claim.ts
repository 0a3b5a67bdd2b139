/**
 * The outbox's reads that lease work: the claim of runnable queue heads, and the wake-up of heads
 * that back off after an outage. Heads live in `outbox_heads` (one row per customer, see
 * src/db/functions/outbox.sql): a claim reads only runnable heads with SKIP LOCKED, so its cost
 * does not grow with the backlog behind them or depend on the planner's statistics.
 */
import type { Database } from "../db/client.ts";
import { arrayLiteral, dateOrNull, numberOrNull, rawStatement } from "../db/raw-sql.ts";
import type { messages } from "../db/schema.ts";
import type { ClaimedItem, Target } from "./delivery.ts";
import { IDLE_PRIORITY } from "./routing.ts";
import { isoAt, retrying } from "./statements.ts";

type MessageRow = typeof messages.$inferSelect;

/**
 * The claim, both targets in one statement (one round trip per pump): runnable DM heads and
 * group heads in serving order, each with its own limit, locked with SKIP LOCKED and leased (head
 * and item) in the same statement. Parameters: DM limit, group limit, now, lease end, idle
 * limit (group heads that wait for an idle group; 0 while it is not), and the key of the support
 * group whose heads it takes (`outbox_heads.group_id`: each group has its own budget, so each is
 * claimed on its own). Rows carry their target, their queue's group key, and whether their queue
 * has another item pending (behind them, or filed before them and passed over: a card edit or a
 * pin).
 *
 * Serving order: customer messages before reminders and card edits (`priority`), then whoever
 * has waited longest (a delivered item sends the customer's next one to the back of the line, so
 * one chatty customer cannot starve others). Heads of `IDLE_PRIORITY` (pins) wait for an idle
 * group: they are claimed (`hi`, up to the idle limit) only when no other group head is runnable.
 * A pin is its queue's head only when nothing more urgent is pending there (`outbox_next`), so
 * waiting for an idle group never holds a customer's message back.
 *
 * Written so that no table statistics can turn it into a scan (a generic plan guesses a
 * `limit $n` at 10% of the heads it might read, which made hash joins over every head and every
 * message look cheap): heads and items are found by key with `= any(array(…))`, the message and
 * its customer through a LATERAL lookup (`limit 1` keeps the planner from flattening it into a
 * join: a nested loop by primary key). Empty queues' heads have the target 'idle' (a check
 * constraint), so the ranges read here never include them and need no `head_id is not null`,
 * which made the planner walk every busy head by `outbox_heads_head_idx`. The item is found by
 * primary key with no `state = 'pending'` (a partial index analysed while empty could be chosen
 * for it).
 */
export const CLAIM_SQL = `with hd as (
	select customer_id, head_id, group_id from outbox_heads
	where target = 'dm' and ready_at <= $3::text::timestamptz
	order by priority, ready_at, head_id
	limit $1::int
	for update skip locked
), hg as (
	select customer_id, head_id, group_id from outbox_heads
	where target = 'group' and group_id = $6::bigint and priority < ${IDLE_PRIORITY}
		and ready_at <= $3::text::timestamptz
	order by priority, ready_at, head_id
	limit $2::int
	for update skip locked
), hi as (
	select customer_id, head_id, group_id from outbox_heads
	where target = 'group' and group_id = $6::bigint and priority >= ${IDLE_PRIORITY}
		and ready_at <= $3::text::timestamptz
		and not exists (select 1 from hg)
	order by priority, ready_at, head_id
	limit $5::int
	for update skip locked
), h as (
	select customer_id, head_id, group_id, 'dm' as target from hd
	union all select customer_id, head_id, group_id, 'group' as target from hg
	union all select customer_id, head_id, group_id, 'group' as target from hi
), l as (
	update outbox_heads x set ready_at = $4::text::timestamptz
	where x.customer_id = any(array(select customer_id from h))
), c as (
	update outbox o set locked_until = $4::text::timestamptz, attempts = o.attempts + 1
	where o.id = any(array(select head_id from h)) and o.state <> 'done' and o.state <> 'dead'
	returning o.id, o.customer_id, o.kind, o.payload, o.attempts
)
select c.*, h.target, h.group_id, mc.*,
	(c.customer_id is null or coalesce(rest.lowest < ${IDLE_PRIORITY}, false)) as has_next,
	coalesce(rest.highest >= ${IDLE_PRIORITY}, false) as idle_next
from c
join h on h.head_id = c.id
left join lateral (
	-- What else the queue has pending, read once: the most and the least urgent of it.
	select min(p.priority) as lowest, max(p.priority) as highest from outbox p
	where p.customer_id = c.customer_id and p.state = 'pending' and p.id <> c.id
) rest on true
left join lateral (
	select m.id as m_id, m.seq as m_seq, m.customer_seq as m_customer_seq, m.author as m_author,
		m.channel as m_channel, m.text as m_text, m.entities as m_entities, m.media_id as m_media_id,
		m.reply_to_id as m_reply_to_id, m.client_message_id as m_client_message_id,
		m.created_at as m_created_at, m.edited_at as m_edited_at,
		cu.telegram_user_id as cu_chat_id, cu.topic_id as cu_topic_id,
		cu.card_message_id as cu_card_message_id
	from messages m join customers cu on cu.id = m.customer_id
	where c.kind = 'topic_message' and m.id = (c.payload->>'messageId')::uuid
	limit 1
) mc on true`;

interface ClaimRow {
	id: number | string;
	customer_id: string | null;
	kind: string;
	payload: Record<string, unknown>;
	attempts: number;
	m_id: string | null;
	m_seq: number | string | null;
	m_customer_seq: number | string | null;
	m_author: string | null;
	m_channel: string | null;
	m_text: string | null;
	m_entities: unknown;
	m_media_id: string | null;
	m_reply_to_id: string | null;
	m_client_message_id: string | null;
	m_created_at: Date | string | null;
	m_edited_at: Date | string | null;
	cu_chat_id: number | string | null;
	cu_topic_id: number | string | null;
	cu_card_message_id: number | string | null;
	target: Target;
	group_id: number | string;
	/** The customer's queue had another item (not one that waits for an idle group) pending. */
	has_next: boolean;
	/** It had an item pending that waits for an idle group (a pin). */
	idle_next: boolean;
}

/** One claimed head: the item, its target, and what else its queue had pending. */
export interface Claimed {
	item: ClaimedItem;
	target: Target;
	/** Another item is pending that is due once this one is done: its delivery waits on this. */
	hasNext: boolean;
	/**
	 * Only work that waits for an idle group (a pin) is pending besides it: nothing waits on this
	 * finish, and that work is claimed once the group is idle.
	 */
	idleNext: boolean;
}

/**
 * Claims and leases up to `dmLimit` DM heads and `groupLimit` group heads until `leaseMs` from
 * now; of the group heads that wait for an idle group, up to `idleLimit`; group heads of the
 * support group of key `groupKey` (0: the default group).
 * @example const claimed = await claimHeads(database, 0, 5, 60_000, 0) // up to 5 group items
 */
export async function claimHeads(
	database: Database,
	dmLimit: number,
	groupLimit: number,
	leaseMs: number,
	idleLimit = 0,
	groupKey = 0,
): Promise<Claimed[]> {
	if (dmLimit <= 0 && groupLimit <= 0) return [];
	const rows = await rawStatement<ClaimRow>(database, CLAIM_SQL, [
		Math.max(0, dmLimit),
		Math.max(0, groupLimit),
		// A finish sets the next head's ready_at from the database's clock in microseconds, while
		// this clock is read in whole milliseconds: a claim right after a finish, in the same
		// millisecond, would read "not yet" and leave the head to the idle poll. One millisecond
		// ahead covers the truncation.
		isoAt(1),
		isoAt(leaseMs),
		Math.max(0, Math.min(idleLimit, groupLimit)),
		groupKey,
	]);
	return rows.map((row) => ({
		item: itemOf(row),
		target: row.target === "group" ? "group" : "dm",
		hasNext: row.has_next !== false,
		idleNext: row.idle_next === true,
	}));
}

function itemOf(row: ClaimRow): ClaimedItem {
	const item: ClaimedItem = {
		id: Number(row.id),
		customerId: row.customer_id as string,
		kind: row.kind,
		payload: row.payload,
		attempts: row.attempts,
		groupKey: Number(row.group_id),
	};
	if (row.kind === "topic_message") item.prefetched = prefetchedOf(row);
	return item;
}

/** A `topic_message` claim carries its message and customer (read in the claim statement). */
function prefetchedOf(row: ClaimRow): NonNullable<ClaimedItem["prefetched"]> {
	if (row.m_id == null) return { message: null };
	return {
		message: {
			id: row.m_id,
			seq: Number(row.m_seq),
			customerSeq: Number(row.m_customer_seq),
			customerId: row.customer_id as string,
			author: row.m_author as MessageRow["author"],
			channel: row.m_channel as MessageRow["channel"],
			text: row.m_text ?? "",
			entities: row.m_entities ?? null,
			mediaId: row.m_media_id,
			replyToId: row.m_reply_to_id,
			clientMessageId: row.m_client_message_id,
			createdAt: dateOrNull(row.m_created_at) as Date,
			editedAt: dateOrNull(row.m_edited_at),
			// The copies claimed with their message are customers' messages.
			operatorId: null,
		},
		chatId: numberOrNull(row.cu_chat_id),
		topicId: numberOrNull(row.cu_topic_id),
		cardMessageId: numberOrNull(row.cu_card_message_id),
	};
}

/**
 * Telegram answered again after an outage: the heads on items that backed off during it are due
 * now, not after their own backoffs (up to 30 s each). Only items not in flight (lease over) and
 * still their queue's head; heads locked first, in key order, like every other writer.
 * Parameters: item ids, now. Returns one row per head woken.
 */
export const WAKE_SQL = `with h as (
	select customer_id, head_id from outbox_heads
	where head_id in (select unnest($1::text::bigint[])) and ready_at > $2::text::timestamptz
	order by customer_id
	for update
), o as (
	update outbox o set next_attempt_at = $2::text::timestamptz from h
	where o.id = h.head_id and o.state = 'pending' and o.locked_until <= $2::text::timestamptz
	returning o.id
)
update outbox_heads x set ready_at = $2::text::timestamptz from o where x.head_id = o.id
returning x.customer_id`;

/** Items woken by one statement after an outage. */
const WAKE_CHUNK = 1000;

/** Makes the heads on these items due now (their backoffs cut short); how many were woken. */
export async function wakeHeads(database: Database, ids: number[]): Promise<number> {
	let woken = 0;
	for (let i = 0; i < ids.length; i += WAKE_CHUNK) {
		const chunk = arrayLiteral(ids.slice(i, i + WAKE_CHUNK));
		const rows = await retrying(() => rawStatement(database, WAKE_SQL, [chunk, isoAt(0)]));
		woken += rows.length;
	}
	return woken;
}
