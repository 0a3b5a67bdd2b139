/**
 * The statements that record customers' messages (customer-messages.ts says what they do for the
 * ticket): the customers' rows locked, then one statement for the rest, for any number of
 * customers, so the rows stay locked for few round trips. Their texts are fixed (one array per
 * column), so each connection parses and plans them once.
 */
import { arrayLiteral, dateOrNull, quotedArrayLiteral, rawQuery } from "../db/raw-sql.ts";
import type { messages } from "../db/schema.ts";
import { enqueueSteps } from "../outbox/enqueue.ts";
import { outboxRouting } from "../outbox/routing.ts";
import type { CustomerMessageInput } from "./stored-message.ts";
import type { Work } from "./unit-of-work.ts";

type MessageRow = typeof messages.$inferSelect;

const COPY = outboxRouting("topic_message");

/**
 * Locks the customers' rows in key order, the order every writer of customers takes, and reads
 * their tickets' status; with `skipHeld`, rows another transaction holds are left out, not waited
 * for.
 */
const lockSql = (skipHeld: boolean) => `select id, status from customers
where id = any($1::text::uuid[]) order by id for no key update${skipHeld ? " skip locked" : ""}`;

const LOCK_SQL = lockSql(false);
const LOCK_FREE_SQL = lockSql(true);

/** Locks these customers' rows (lower-case ids); answers the status of each row locked. */
export async function lockCustomers(
	work: Work,
	ids: readonly string[],
	skipHeld: boolean,
): Promise<Map<string, string>> {
	const rows = await rawQuery<{ id: string; status: string }>(
		work.tx,
		skipHeld ? LOCK_FREE_SQL : LOCK_SQL,
		[arrayLiteral(ids)],
	);
	return new Map(rows.map((row) => [row.id.toLowerCase(), row.status]));
}

/**
 * Steps, in one statement, for customers whose rows the transaction holds: their last activity
 * moved; the messages inserted in the order given, a repeated `clientMessageId` inserting
 * nothing; the copy owed to the topic filed for each new message, with its queue's head; the SLA
 * clock started at $9 (now, by this process's clock) unless one runs already ($8: its first
 * reminder, null for none). Returns the new messages and how many copies headed an idle queue.
 */
const RECORD_SQL = `with input as (
	select * from unnest($1::text::uuid[], $2::text::text[], $3::text::text[], $4::text::uuid[],
		$5::text::jsonb[], $6::text::uuid[], $7::text::text[])
		with ordinality as i(customer_id, channel, text, media_id, entities, reply_to_id,
			client_message_id, n)
), touched as (
	update customers set last_message_at = now() where id = any($1::text::uuid[])
), stored as (
	insert into messages (customer_id, author, channel, text, media_id, entities, reply_to_id,
		client_message_id)
	select customer_id, 'user', channel, text, media_id, entities, reply_to_id, client_message_id
	from input order by n
	on conflict (customer_id, client_message_id) do nothing
	returning id, seq, customer_id, author, channel, text, entities, media_id, reply_to_id,
		client_message_id, created_at, edited_at
), copies as (
	select customer_id, 'topic_message' as kind, json_build_object('messageId', id)::text as payload,
		'${COPY.target}' as target, ${COPY.priority} as priority, seq as n
	from stored
), ${enqueueSteps("copies")}, clocks as (
	insert into timers (customer_id, kind, step, since, fire_at)
	select customer_id, 'sla', 0, $9::text::timestamptz, $8::text::timestamptz from stored
	where $8::text is not null
	on conflict do nothing
)
select (select count(*) from heads)::int as heads, s.* from stored s`;

interface Row {
	heads: number;
	id: string;
	seq: number | string;
	customer_id: string;
	author: MessageRow["author"];
	channel: MessageRow["channel"];
	text: string;
	entities: unknown;
	media_id: string | null;
	reply_to_id: string | null;
	client_message_id: string | null;
	created_at: Date | string;
	edited_at: Date | string | null;
}

export interface Recorded {
	/** The messages inserted now, by customer. */
	inserted: Map<string, MessageRow>;
	/** Copies filed that had to wait behind their queue's head. */
	queuedBehind: boolean;
}

/** Runs the statement in the caller's transaction, which holds the customers' rows. */
export async function recordStatement(
	work: Work,
	inputs: readonly CustomerMessageInput[],
	sla: { since: Date; fireAt: Date | null },
): Promise<Recorded> {
	const column = (pick: (input: CustomerMessageInput) => string | null) =>
		quotedArrayLiteral(inputs.map(pick));
	const rows = await rawQuery<Row>(work.tx, RECORD_SQL, [
		column((input) => input.customerId),
		column((input) => input.channel),
		column((input) => input.text),
		column((input) => input.attachment?.id ?? null),
		column((input) => (input.entities == null ? null : JSON.stringify(input.entities))),
		column((input) => input.replyTo ?? null),
		column((input) => input.clientMessageId ?? null),
		sla.fireAt?.toISOString() ?? null,
		sla.since.toISOString(),
	]);
	const inserted = new Map(rows.map((row) => [row.customer_id.toLowerCase(), messageRowOf(row)]));
	return { inserted, queuedBehind: (rows[0]?.heads ?? 0) < inserted.size };
}

/** A stored row as Drizzle would read it (the drivers differ in how they type raw columns). */
function messageRowOf(row: Row): MessageRow {
	return {
		id: row.id,
		seq: Number(row.seq),
		customerId: row.customer_id,
		author: row.author,
		channel: row.channel,
		text: row.text,
		entities: row.entities,
		mediaId: row.media_id,
		replyToId: row.reply_to_id,
		clientMessageId: row.client_message_id,
		createdAt: dateOrNull(row.created_at) ?? new Date(),
		editedAt: dateOrNull(row.edited_at),
	};
}
