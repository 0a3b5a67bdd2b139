/**
 * The one statement that records customers' messages on tickets they leave as they are: the
 * customers' rows locked in key order (the order every writer of customers takes), their last
 * activity moved, the messages inserted in the order given (a repeated `clientMessageId` inserts
 * nothing), the copy owed to the topic filed with its queue's head, and the SLA clock started
 * unless it runs already. customer-messages.ts runs it for every customer message: on its own for
 * a batch of web messages (autocommit, so the rows are locked only while it runs), or inside the
 * transaction that first reopened a ticket or spent a conversation quota. Its text is fixed (one
 * array per column), so each connection parses and plans it once.
 */
import type { Database, Tx } from "../db/client.ts";
import {
	arrayLiteral,
	dateOrNull,
	type Param,
	quotedArrayLiteral,
	rawQuery,
	runFixed,
} from "../db/raw-sql.ts";
import type { messages, TicketStatus } from "../db/schema.ts";
import { enqueueSteps } from "../outbox/enqueue.ts";
import { outboxRouting } from "../outbox/routing.ts";
import type { CustomerMessageInput } from "./stored-message.ts";

type MessageRow = typeof messages.$inferSelect;

const COPY = outboxRouting("topic_message");

/**
 * The customers' rows locked in key order, the order every writer of customers takes, with their
 * ticket's status. `skipHeld`: rows another transaction holds are left out, not waited for.
 */
const lockSql = (skipHeld: boolean) => `select id, status from customers
	where id in (select unnest($1::text::uuid[])) order by id for no key update${skipHeld ? " skip locked" : ""}`;

/** Locks these customers' rows in the caller's transaction; the status of each row locked. */
export async function lockCustomers(
	tx: Tx,
	ids: readonly string[],
	skipHeld: boolean,
): Promise<Map<string, TicketStatus>> {
	const rows = await rawQuery<{ id: string; status: TicketStatus }>(tx, lockSql(skipHeld), [
		arrayLiteral(ids),
	]);
	return new Map(rows.map((row) => [row.id.toLowerCase(), row.status]));
}

/**
 * `changing`: the statuses a customer's message changes (a reopen must come first, through
 * `changeStatus`): such a customer's row is locked and reported, nothing else is done for it.
 * `skipHeld`: rows another transaction holds are left out, not waited for (a customer that no
 * longer exists then looks held, and fails when its message is tried again alone).
 */
const acceptSql = (changing: readonly TicketStatus[], skipHeld: boolean) => `with input as (
	select * from unnest($1::text::uuid[], $2::text::text[], $3::text::text[], $4::text::uuid[],
		$5::text::jsonb[], $6::text::uuid[], $7::text::text[])
		with ordinality as i(customer_id, channel, text, media_id, entities, reply_to_id,
			client_message_id, n)
), locked as (${lockSql(skipHeld)}), kept as (
	select id from locked where status not in (${changing.map((status) => `'${status}'`).join(", ")})
), touched as (
	update customers c set last_message_at = now() from kept k where c.id = k.id
), stored as (
	insert into messages (customer_id, author, channel, text, media_id, entities, reply_to_id,
		client_message_id)
	select i.customer_id, 'user', i.channel, i.text, i.media_id, i.entities, i.reply_to_id,
		i.client_message_id
	from input i
	where ${
		skipHeld
			? "i.customer_id in (select id from kept)"
			: // Every customer that exists is locked by now: one that does not (merged into another
				// meanwhile) fails the insert on its foreign key, which the web door answers by
				// applying the message to the surviving customer.
				"i.customer_id not in (select id from locked except select id from kept)"
	}
	order by i.n
	on conflict (customer_id, client_message_id) do nothing
	returning id, seq, customer_seq, customer_id, author, channel, text, entities, media_id,
		reply_to_id, client_message_id, created_at, edited_at
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
select l.id as locked_id, l.status, (select count(*) from heads)::int as heads, s.*
from locked l left join stored s on s.customer_id = l.id`;

interface Row {
	locked_id: string;
	status: TicketStatus;
	heads: number;
	id: string | null;
	seq: number | string;
	customer_seq: number | string;
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

export interface Accepted {
	/** The customers whose row was locked, with their ticket's status (lower-case ids). */
	statusOf: Map<string, TicketStatus>;
	/** The messages inserted now, by customer (lower-case ids). */
	inserted: Map<string, MessageRow>;
	/** Some copy filed had to wait behind its queue's head. */
	queuedBehind: boolean;
}

/** The statement's two forms for one rule of which statuses a message changes. */
export function acceptStatements(changing: readonly TicketStatus[]) {
	return { waiting: acceptSql(changing, false), skipping: acceptSql(changing, true) };
}

/**
 * Runs the statement: on its own (`Database`, autocommit) or in the caller's transaction (`Tx`).
 * The SLA clock starts at `since` and first fires at `fireAt` (null: the policy has none).
 */
export async function runAccept(
	executor: Database | Tx,
	text: string,
	inputs: readonly CustomerMessageInput[],
	sla: { since: Date; fireAt: Date | null },
): Promise<Accepted> {
	const column = (pick: (input: CustomerMessageInput) => string | null) =>
		quotedArrayLiteral(inputs.map(pick));
	const params: Param[] = [
		column((input) => input.customerId),
		column((input) => input.channel),
		column((input) => input.text),
		column((input) => input.attachment?.id ?? null),
		column((input) => (input.entities == null ? null : JSON.stringify(input.entities))),
		column((input) => input.replyTo ?? null),
		column((input) => input.clientMessageId ?? null),
		sla.fireAt?.toISOString() ?? null,
		sla.since.toISOString(),
	];
	const rows = await runFixed<Row>(executor, text, params);
	const statusOf = new Map<string, TicketStatus>();
	const inserted = new Map<string, MessageRow>();
	for (const row of rows) {
		statusOf.set(row.locked_id.toLowerCase(), row.status);
		if (row.id) inserted.set(row.locked_id.toLowerCase(), messageRowOf(row, row.id));
	}
	return { statusOf, inserted, queuedBehind: (rows[0]?.heads ?? 0) < inserted.size };
}

/** A stored row as Drizzle would read it (the drivers differ in how they type raw columns). */
function messageRowOf(row: Row, id: string): MessageRow {
	return {
		id,
		seq: Number(row.seq),
		customerSeq: Number(row.customer_seq),
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
		operatorId: null,
	};
}
