/**
 * The hot path of a web message (DESIGN §6): the common case — an open ticket, no reply target —
 * as one self-contained statement. Storing the message, the customer's last activity, the copy
 * owed to the topic and the SLA clock happen atomically in a single round trip, without a
 * transaction around it. Anything else (a duplicate retry, a closed or waiting ticket whose status
 * must change first) returns null and takes the general path.
 */
import { prepared } from "../db/prepared.ts";
import {
	type CustomerMessageInput,
	statusesKeptByCustomerMessage,
	topicCopyOf,
} from "./customer-message-rules.ts";
import { outboxRouting } from "./outbox-routing.ts";
import { slaFireAt } from "./sla-clock.ts";
import type { StoredMessage } from "./stored-message.ts";
import { type CoreDeps, retryingConflicts } from "./unit-of-work.ts";

interface Row {
	id: string;
	seq: number | string;
	created_at: string;
}

// The rules `recordCustomerMessage` follows, written into the statement once (constants, never
// client input): which statuses a message leaves alone, the topic copy's routing.
const KEPT = statusesKeptByCustomerMessage.map((status) => `'${status}'`).join(", ");
const COPY = topicCopyOf("").kind;
const ROUTE = outboxRouting(COPY);

/**
 * Prepared once per connection (fixed text, no SQL building per message). Parameters: now,
 * customer id, channel, text, client message id, SLA due time (null: no clock). Each step reads the previous
 * one's RETURNING rows, so nothing happens unless the ticket is open (c) and the message is new
 * (m); the queue's head follows the new item in the same statement (outbox heads, README).
 */
const FAST_ACCEPT_SQL = `with c as (
	update customers set last_message_at = $1::text::timestamptz
	where id = $2::uuid and status in (${KEPT})
	returning id
), m as (
	insert into messages (customer_id, author, channel, text, client_message_id)
	select c.id, 'user', $3::text, $4::text, $5::text from c
	on conflict (customer_id, client_message_id) do nothing
	returning id, seq, created_at
), o as (
	insert into outbox (customer_id, kind, payload, target, priority)
	select $2::uuid, '${COPY}', jsonb_build_object('messageId', m.id), '${ROUTE.target}', ${ROUTE.priority} from m
	returning id, next_attempt_at
), h as (
	insert into outbox_heads as x (customer_id, head_id, target, priority, ready_at)
	select $2::uuid, o.id, '${ROUTE.target}', ${ROUTE.priority}, o.next_attempt_at from o
	on conflict (customer_id) do update set head_id = excluded.head_id,
		target = excluded.target, priority = excluded.priority, ready_at = excluded.ready_at
	where x.head_id is null
), t as (
	insert into timers (customer_id, kind, step, since, fire_at)
	select $2::uuid, 'sla', 0, $1::text::timestamptz, $6::text::timestamptz from m where $6::text is not null
	on conflict do nothing
)
select id, seq,
	to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
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
	// Each step reads the previous one's RETURNING rows, so nothing happens unless the ticket
	// is open (c) and the message is new (m).
	const [row] = await retryingConflicts(() =>
		prepared<Row>(deps.database.db, FAST_ACCEPT_SQL, [
			now.toISOString(),
			input.customerId,
			input.channel,
			text,
			input.clientMessageId ?? null,
			slaAt,
		]),
	);
	if (!row) return null;
	const message: StoredMessage = {
		id: row.id,
		seq: Number(row.seq),
		customerId: input.customerId,
		author: "user",
		channel: input.channel,
		text,
		replyToId: null,
		clientMessageId: input.clientMessageId ?? null,
		createdAt: row.created_at,
		editedAt: null,
		media: null,
	};
	deps.bus.publish(input.customerId, { type: "message", message });
	deps.wakeOutbox();
	return message;
}
