/**
 * What a customer's message does to the ticket, whichever door it came through: the message is
 * stored (once per `clientMessageId`), the customer's last activity moves, a closed ticket
 * reopens and a waiting one goes back in progress, the copy owed to the topic is filed, the SLA
 * clock starts, the customer's sockets get the echo, and a message that opens a conversation
 * spends the client's conversation quota. Written once, in set form: the messages of many
 * customers (a group commit) take the same few statements as one message.
 */
import { and, eq, or, sql } from "drizzle-orm";
import { arrayLiteral, dateOrNull, quotedArrayLiteral, rawQuery } from "../db/raw-sql.ts";
import { customers, messages, type TicketStatus } from "../db/schema.ts";

type MessageRow = typeof messages.$inferSelect;

import { spendOnOpenings } from "./quotas.ts";
import { changeStatus } from "./status.ts";
import {
	type CustomerMessageInput,
	type RecordedMessage,
	type StoredMessage,
	toStored,
} from "./stored-message.ts";
import { armSla } from "./timer-arming.ts";
import type { Work } from "./unit-of-work.ts";

/**
 * The customer writing again reopens a closed ticket and takes a waiting one back in progress;
 * other statuses stay as they are.
 */
const statusAfterCustomerMessage: Partial<Record<TicketStatus, TicketStatus>> = {
	CLOSED: "NEW",
	WAITING_CLIENT: "IN_PROGRESS",
};

export interface RecordOptions {
	/**
	 * Skip, rather than wait for, customers whose row another transaction holds (an operator's
	 * reply, a topic being created): their messages come back `held`, so one busy customer does
	 * not hold up a batch of others.
	 */
	skipHeld?: boolean;
}

const idOf = (customerId: string) => customerId.toLowerCase();

/**
 * `column = any(ids)`, the ids one array parameter: the statement's text is the same for any
 * number of customers, so the prepared statements below are parsed once per connection.
 */
const anyOf = (column: typeof customers.id) =>
	sql`${column} = any(${sql.placeholder("ids")}::text::uuid[])`;

/** As `anyOf`, leaving out the rows another transaction holds (not waited for). */
const freeOf = (column: typeof customers.id) =>
	sql`${column} = any(array(select c.id from customers c
		where c.id = any(${sql.placeholder("ids")}::text::uuid[]) for no key update skip locked))`;

/**
 * Records the messages of distinct customers in the caller's transaction, with everything that
 * follows from them; answers what became of each, in the order given. The number of statements
 * does not grow with the number of messages, except for a status change (a reopen), which goes
 * through `changeStatus` before the copies are filed so that its notice comes first in the topic.
 *
 * @example const [recorded] = await recordCustomerMessages(work, [{ customerId, channel: "web", text }]);
 */
export async function recordCustomerMessages(
	work: Work,
	inputs: readonly CustomerMessageInput[],
	options: RecordOptions = {},
): Promise<RecordedMessage[]> {
	const ids = inputs.map((input) => idOf(input.customerId));
	if (new Set(ids).size !== ids.length)
		throw new Error("one customer's messages are recorded one after another, never together");
	const outcome = new Map<string, RecordedMessage>();
	const openers = inputs.flatMap((input) =>
		input.openingLimit === undefined
			? []
			: [{ customerId: input.customerId, limit: input.openingLimit }],
	);
	// The customers' rows first, locked by moving their last activity (to the transaction's start,
	// the instant the messages' own `created_at` holds; a repeat or a refused message is activity
	// too): their status tells which tickets the messages reopen, and the quota is then read and
	// spent for the messages stored. One statement locks and writes each row once.
	const [, touched] = await Promise.all([
		// Rows by key only, whatever the planner believes of tables that grew since they were last
		// analyzed: a plan made while a table was small would read it whole on every later call of
		// a prepared statement. Sent with the next statement, in the same round trip.
		work.tx.execute(sql`set local enable_seqscan = off`),
		work.tx
			.update(customers)
			.set({ lastMessageAt: sql`now()` })
			.where(options.skipHeld ? freeOf(customers.id) : anyOf(customers.id))
			.returning({ id: customers.id, status: customers.status })
			.prepare(options.skipHeld ? "touch_free_customers" : "touch_customers")
			.execute({ ids: arrayLiteral(ids) }),
	]);
	const statusOf = new Map(touched.map((row) => [idOf(row.id), row.status]));
	if (options.skipHeld)
		for (const id of ids) if (!statusOf.has(id)) outcome.set(id, { kind: "held" });
	const refused = await spendOnOpenings(
		work.tx,
		openers.filter((opener) => !outcome.has(idOf(opener.customerId))),
	);
	for (const id of refused) outcome.set(id, { kind: "refused" });
	const toStore = inputs.filter((input) => !outcome.has(idOf(input.customerId)));
	const stored = await storeNew(work, toStore);
	for (const [id, message] of stored)
		outcome.set(id, { kind: "stored", message, duplicate: false });
	for (const [id, message] of await storedBefore(work, toStore, stored))
		outcome.set(id, { kind: "stored", message, duplicate: true });
	await followNewMessages(work, [...stored.values()], statusOf);
	return ids.map((id) => {
		const result = outcome.get(id);
		if (!result) throw new Error("a customer's message was neither stored nor found");
		return result;
	});
}

/**
 * Inserts the messages in the order given; a repeated `clientMessageId` inserts nothing. The
 * values travel as one array per column, so the statement's text is the same for any number of
 * messages and each connection parses and plans it once.
 */
const STORE_SQL = `insert into messages (customer_id, author, channel, text, media_id, entities,
	reply_to_id, client_message_id)
select customer_id, 'user', channel, text, media_id, entities, reply_to_id, client_message_id
from unnest($1::text::uuid[], $2::text::text[], $3::text::text[], $4::text::uuid[],
	$5::text::jsonb[], $6::text::uuid[], $7::text::text[])
	with ordinality as i(customer_id, channel, text, media_id, entities, reply_to_id,
		client_message_id, n)
order by n
on conflict (customer_id, client_message_id) do nothing
returning id, seq, customer_id, author, channel, text, entities, media_id, reply_to_id,
	client_message_id, created_at, edited_at`;

interface StoredRow {
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

/** Inserts the messages; a repeated `clientMessageId` inserts nothing. New ones by customer. */
async function storeNew(work: Work, inputs: readonly CustomerMessageInput[]) {
	if (inputs.length === 0) return new Map<string, StoredMessage>();
	const column = (pick: (input: CustomerMessageInput) => string | null) =>
		quotedArrayLiteral(inputs.map(pick));
	const rows = await rawQuery<StoredRow>(work.tx, STORE_SQL, [
		column((input) => input.customerId),
		column((input) => input.channel),
		column((input) => input.text),
		column((input) => input.attachment?.id ?? null),
		column((input) => (input.entities == null ? null : JSON.stringify(input.entities))),
		column((input) => input.replyTo ?? null),
		column((input) => input.clientMessageId ?? null),
	]);
	const attachments = new Map(inputs.map((input) => [idOf(input.customerId), input.attachment]));
	return new Map(
		rows.map((row) => [
			idOf(row.customer_id),
			toStored(messageRowOf(row), attachments.get(idOf(row.customer_id))),
		]),
	);
}

/** A stored row as Drizzle would read it (the drivers differ in how they type raw columns). */
function messageRowOf(row: StoredRow): MessageRow {
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

/** The messages stored earlier under the `clientMessageId`s that inserted nothing now. */
async function storedBefore(
	work: Work,
	inputs: readonly CustomerMessageInput[],
	stored: ReadonlyMap<string, StoredMessage>,
) {
	const repeats = inputs.filter((input) => !stored.has(idOf(input.customerId)));
	if (repeats.length === 0) return [];
	const rows = await work.tx
		.select()
		.from(messages)
		.where(
			or(
				...repeats.map((input) =>
					and(
						eq(messages.customerId, input.customerId),
						eq(messages.clientMessageId, input.clientMessageId ?? ""),
					),
				),
			),
		);
	return rows.map((row) => [idOf(row.customerId), toStored(row)] as const);
}

/** Everything a new message sets off, for many customers at once. */
async function followNewMessages(
	work: Work,
	added: readonly StoredMessage[],
	statusOf: ReadonlyMap<string, TicketStatus>,
) {
	if (added.length === 0) return;
	// Reopened before the copies are filed, so the notice comes first in the topic.
	for (const message of added) {
		const status = statusOf.get(idOf(message.customerId));
		const next = status && statusAfterCustomerMessage[status];
		if (next) await changeStatus(work, message.customerId, next, "customer");
	}
	// Independent of each other: sent together, they share the round trips.
	await Promise.all([
		work.enqueueAll(
			added.map((message) => ({
				customerId: message.customerId,
				item: { kind: "topic_message", messageId: message.id },
			})),
		),
		armSla(
			work,
			added.map((message) => ({
				customerId: message.customerId,
				since: new Date(message.createdAt),
			})),
		),
	]);
	for (const message of added) work.emit(message.customerId, { type: "message", message });
}
