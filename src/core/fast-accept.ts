/**
 * The hot path of a web message (DESIGN §6): the common case — an open ticket, no reply target —
 * as one self-contained statement. Storing the message, the customer's last activity, the copy
 * owed to the topic and the SLA clock happen atomically in a single round trip, without a
 * transaction around it. Anything else (a duplicate retry, a closed or waiting ticket whose status
 * must change first) returns null and takes the general path.
 */
import { numberOrNull, prepared } from "../db/prepared.ts";
import {
	type CustomerMessageInput,
	statusesKeptByCustomerMessage,
	topicCopyOf,
} from "./customer-message-rules.ts";
import { outboxRouting } from "./outbox-routing.ts";
import { slaFireAt } from "./sla-clock.ts";
import { type StoredMessage, toStored } from "./stored-message.ts";
import { type CoreDeps, retryingConflicts } from "./unit-of-work.ts";

interface Row {
	id: string;
	seq: number | string;
	created_at: string;
	outbox_id: number | string;
	leased: boolean;
	took_head: boolean;
	chat_id: number | string | null;
	topic_id: number | string | null;
	card_message_id: number | string | null;
}

// The rules `recordCustomerMessage` follows, written into the statement once (constants, never
// client input): which statuses a message leaves alone, the topic copy's routing.
const KEPT = statusesKeptByCustomerMessage.map((status) => `'${status}'`).join(", ");
const COPY = topicCopyOf("").kind;
const ROUTE = outboxRouting(COPY);

/**
 * Prepared once per connection (fixed text, no SQL building per message). Parameters: now,
 * customer id, channel, text, client message id, SLA due time (null: no clock), lease end (null:
 * no hand-off). Each step reads the previous one's RETURNING rows, so nothing happens unless the
 * ticket is open (c) and the message is new (m); the queue's head follows the new item in the
 * same statement (outbox heads, README).
 *
 * Hand-off (README): with a lease end, a copy that will be its queue's head (q: the head row,
 * locked, is idle or missing) is filed already leased (`attempts` 1, `locked_until` the lease,
 * the head ready only then), and the worker delivers it without a claim. `took_head` says
 * whether the head upsert took it; when a concurrent first message of the same customer won
 * the head (the row did not exist yet), the caller gives the lease back.
 */
const FAST_ACCEPT_SQL = `with c as (
	update customers set last_message_at = $1::text::timestamptz
	where id = $2::uuid and status in (${KEPT})
	returning id, telegram_user_id, topic_id, card_message_id
), m as (
	insert into messages (customer_id, author, channel, text, client_message_id)
	select c.id, 'user', $3::text, $4::text, $5::text from c
	on conflict (customer_id, client_message_id) do nothing
	returning id, seq, created_at
), q as (
	select head_id from outbox_heads where customer_id = $2::uuid and $7::text is not null
	for update
), lease as (
	select $7::text::timestamptz as until
	where $7::text is not null and not exists (select 1 from q where head_id is not null)
), o as (
	insert into outbox (customer_id, kind, payload, target, priority, locked_until, attempts)
	select $2::uuid, '${COPY}', jsonb_build_object('messageId', m.id), '${ROUTE.target}', ${ROUTE.priority},
		coalesce((select until from lease), 'epoch'), case when exists (select 1 from lease) then 1 else 0 end
	from m
	returning id, next_attempt_at, locked_until
), h as (
	insert into outbox_heads as x (customer_id, head_id, target, priority, ready_at)
	select $2::uuid, o.id, '${ROUTE.target}', ${ROUTE.priority}, greatest(o.next_attempt_at, o.locked_until) from o
	on conflict (customer_id) do update set head_id = excluded.head_id,
		target = excluded.target, priority = excluded.priority, ready_at = excluded.ready_at
	where x.head_id is null
	returning x.head_id
), t as (
	insert into timers (customer_id, kind, step, since, fire_at)
	select $2::uuid, 'sla', 0, $1::text::timestamptz, $6::text::timestamptz from m where $6::text is not null
	on conflict do nothing
)
select m.id, m.seq,
	to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
	(select id from o) as outbox_id, exists (select 1 from lease) as leased,
	exists (select 1 from h) as took_head,
	(select telegram_user_id from c) as chat_id, (select topic_id from c) as topic_id,
	(select card_message_id from c) as card_message_id
from m`;

export async function fastAcceptMessage(
	deps: CoreDeps,
	input: CustomerMessageInput,
	text: string,
): Promise<StoredMessage | null> {
	if (input.replyTo) return null;
	const now = new Date();
	// The clock starts at the message, counted from the same instant as its fire time.
	const slaAt = slaFireAt(deps.policy, now)?.toISOString() ?? null;
	const reservation = deps.handOff?.reserve() ?? null;
	let row: Row | undefined;
	try {
		[row] = await retryingConflicts(() =>
			prepared<Row>(deps.database.db, FAST_ACCEPT_SQL, [
				now.toISOString(),
				input.customerId,
				input.channel,
				text,
				input.clientMessageId ?? null,
				slaAt,
				reservation?.lease ?? null,
			]),
		);
	} catch (error) {
		reservation?.cancel();
		throw error;
	}
	const handedOff = Boolean(row?.leased && row.took_head);
	if (!handedOff) reservation?.cancel();
	if (!row) return null;
	// The stored row as a claim would read it: the event's record and the hand-off carry the same.
	const record = {
		id: row.id,
		seq: Number(row.seq),
		customerId: input.customerId,
		author: "user" as const,
		channel: input.channel,
		text,
		entities: null,
		mediaId: null,
		replyToId: null,
		clientMessageId: input.clientMessageId ?? null,
		createdAt: new Date(row.created_at),
		editedAt: null,
	};
	const message = toStored(record);
	deps.bus.publish(input.customerId, { type: "message", message });
	if (handedOff)
		reservation?.deliver({
			id: Number(row.outbox_id),
			customerId: input.customerId,
			message: record,
			chatId: numberOrNull(row.chat_id),
			topicId: numberOrNull(row.topic_id),
			cardMessageId: numberOrNull(row.card_message_id),
		});
	else {
		// Leased, but a concurrent first message of this customer became the head: the lease is
		// given back so the item is not held until it runs out once its turn comes.
		if (row.leased) await deps.handOff?.giveBack(Number(row.outbox_id));
		deps.wakeOutbox();
	}
	return message;
}
