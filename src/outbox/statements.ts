/**
 * The worker's writes to the outbox, each a call of a stored function in
 * src/db/functions/outbox.sql (where the locking order they keep is explained): finish, requeue,
 * dead, renew, repair. Every hot statement is prepared once per connection.
 */
import type { Database, Tx } from "../db/client.ts";
import { retryingConflicts } from "../db/errors.ts";
import { arrayLiteral, type Param, rawStatement, runFixed } from "../db/raw-sql.ts";
import type { DeliveredCard, DeliveredCopy } from "./delivery.ts";

/**
 * A timestamp `ms` from now as ISO text: Drizzle's postgres.js driver sends no Date objects.
 * Times come from this process's clock, not the database's, so that a wait such as Telegram's
 * retry_after is measured on the same clock that measured the failure.
 */
export const isoAt = (ms: number) => new Date(Date.now() + ms).toISOString();

/** A statement PostgreSQL chose as a deadlock victim is simply run again. */
export const retrying = <T>(fn: () => Promise<T>) => retryingConflicts(fn, 5);

/** Items to mark done, with the copies their deliveries made and the cards they posted. */
export interface Finished {
	ids: number[];
	copies: DeliveredCopy[];
	cards?: DeliveredCard[];
}

const FINISH_SQL = "select outbox_finish($1::text::bigint[])";

/** The copies deliveries made, recorded (parameters 1–4: message, kind, chat, Telegram id). */
const COPIES_STEP = `c as (
	insert into message_copies (message_id, kind, chat_id, telegram_message_id, state)
	select m, k, ch, t, 'delivered'
	from unnest($1::text::uuid[], $2::text::text[], $3::text::bigint[], $4::text::bigint[]) as u(m, k, ch, t)
	on conflict (message_id, kind) do update set telegram_message_id = excluded.telegram_message_id,
		state = 'delivered', error = null
)`;

const FINISH_WITH_COPIES_SQL = `with ${COPIES_STEP}
select outbox_finish($5::text::bigint[])`;

/**
 * The same with cards posted: the customers' rows are locked in key order (the order every
 * writer of customers takes) and record their card, in the topic it was posted in, before the
 * function locks the heads (the join makes it wait for them).
 */
const FINISH_WITH_CARDS_SQL = `with ${COPIES_STEP}, u as (
	select * from unnest($6::text::uuid[], $7::text::bigint[], $8::text::bigint[]) as u(id, topic, card)
), l as (
	select id from customers where id in (select id from u) order by id for no key update
), k as (
	update customers cu set card_message_id = u.card from u, l
	where cu.id = u.id and l.id = u.id and cu.topic_id = u.topic
	returning cu.id
)
select outbox_finish($5::text::bigint[]) from (select count(*) from k) as cards`;

/**
 * Records the copies deliveries made (and the cards they posted) and finishes their items, in one
 * statement. Copies of one message and kind appear once (the latest wins), as one INSERT cannot
 * touch a row twice.
 */
export function finishItems(executor: Database | Tx, entries: readonly Finished[]) {
	const run = (text: string, params: Param[]) => runFixed(executor, text, params);
	const ids = entries.flatMap((entry) => entry.ids);
	const copies = new Map<string, DeliveredCopy>();
	for (const entry of entries)
		for (const copy of entry.copies) copies.set(`${copy.messageId}/${copy.kind}`, copy);
	const cards = entries.flatMap((entry) => entry.cards ?? []);
	if (copies.size === 0 && cards.length === 0) return run(FINISH_SQL, [arrayLiteral(ids)]);
	const rows = [...copies.values()];
	const params: Param[] = [
		arrayLiteral(rows.map((c) => c.messageId)),
		arrayLiteral(rows.map((c) => c.kind)),
		arrayLiteral(rows.map((c) => c.chatId)),
		arrayLiteral(rows.map((c) => c.telegramMessageId)),
		arrayLiteral(ids),
	];
	if (cards.length === 0) return run(FINISH_WITH_COPIES_SQL, params);
	return run(FINISH_WITH_CARDS_SQL, [
		...params,
		arrayLiteral(cards.map((card) => card.customerId)),
		arrayLiteral(cards.map((card) => card.topicId)),
		arrayLiteral(cards.map((card) => card.cardMessageId)),
	]);
}

const REQUEUE_SQL =
	"select outbox_requeue($1::text::bigint[], $2::text::timestamptz, $3::text, $4::int)";

/**
 * Puts claimed items back in their queues, due `delayMs` from now. `error` is recorded (null
 * keeps the last one); `undo` attempts are taken back (1: the claim was no real attempt).
 */
export function requeueItems(
	database: Database,
	ids: number[],
	delayMs: number,
	error: string | null,
	undo: 0 | 1,
) {
	if (ids.length === 0) return Promise.resolve([]);
	return retrying(() =>
		rawStatement(database, REQUEUE_SQL, [arrayLiteral(ids), isoAt(delayMs), error, undo]),
	);
}

/** Puts claimed items back unleased and due now, the attempt not counted (nobody sent them). */
export const releaseItems = (database: Database, ids: number[]) =>
	requeueItems(database, ids, 0, null, 1);

/** The item failed for good; `notice` (JSON text, or null) joins its queue for operators. */
export function markDead(database: Database, id: number, reason: string, notice: string | null) {
	return retrying(() =>
		rawStatement(database, "select outbox_dead($1::bigint, $2::text, $3::text::jsonb)", [
			id,
			reason,
			notice,
		]),
	);
}

/** Extends the leases of items in flight to `leaseMs` from now. */
export function renewLeases(database: Database, ids: number[], leaseMs: number) {
	return rawStatement(database, "select outbox_renew($1::text::bigint[], $2::text::timestamptz)", [
		arrayLiteral(ids),
		isoAt(leaseMs),
	]);
}

/** The failsafe sweep: re-derives heads no write path should have left wrong; how many. */
export async function repairHeads(database: Database): Promise<number> {
	const [row] = await rawStatement<{ fixed: number }>(
		database,
		"select outbox_heads_repair() as fixed",
		[],
	);
	return Number(row?.fixed ?? 0);
}
