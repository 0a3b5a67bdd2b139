/**
 * The hot path of a web message (DESIGN §6): the common case — an open ticket, no reply target —
 * as one self-contained statement, shared by the messages of many customers that arrive together
 * (keyed-batches.ts). Storing the message, the customer's last activity, the copy owed to the
 * topic and the SLA clock happen atomically in a single round trip, without a transaction around
 * it. Anything else (a duplicate retry, a closed or waiting ticket whose status must change
 * first, a customer row held by another transaction) returns null and takes the general path.
 */
import { HOT_CONNECTIONS } from "../db/client.ts";
import { prepared, quotedArrayLiteral } from "../db/prepared.ts";
import { outboxRouting } from "../outbox/routing.ts";
import {
	type CustomerMessageInput,
	statusesKeptByCustomerMessage,
	topicCopyOf,
} from "./customer-message-rules.ts";
import { KeyedBatches } from "./keyed-batches.ts";
import { conversationsExceeded } from "./quotas.ts";
import { slaFireAt } from "./sla-clock.ts";
import { type StoredMessage, toStored } from "./stored-message.ts";
import { type CoreDeps, retryingConflicts } from "./unit-of-work.ts";

interface Row {
	id: string;
	customer_id: string;
	seq: number | string;
	created_at: string;
	outbox_id: number | string;
	leased: boolean;
	took_head: boolean;
	chat_id: number | string | null;
	topic_id: number | string | null;
	card_message_id: number | string | null;
	/** The message opened a conversation over the quota: nothing was stored. */
	refused: boolean;
	/** The customer's row was held by another transaction (a batch skips it): nothing stored. */
	held: boolean;
}

// The rules `recordCustomerMessage` follows, written into the statement once (constants, never
// client input): which statuses a message leaves alone, the topic copy's routing.
const KEPT = statusesKeptByCustomerMessage.join(",");
const COPY = topicCopyOf("").kind;
const ROUTE = outboxRouting(COPY);
/** What both accept functions return, as a `Row`: the time as the ISO text JavaScript writes. */
const RETURNED = `select id, customer_id, seq,
	to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
	outbox_id, leased, took_head, chat_id, topic_id, card_message_id, refused, held`;

/**
 * Prepared once per connection (fixed text, no SQL building per message): the accept function
 * (migrations 0013-0015) for a batch of two or more messages of distinct customers
 * (keyed-batches.ts); a message alone takes `ONE_MESSAGE_SQL` below. Parameters: now, customer
 * ids, channels, texts, client message ids, the SLA due time (null: no clock), lease ends (an
 * element null: no hand-off for that message), the conversation quota's caps (an element null:
 * the customer is known to have a conversation, no check). Nothing happens for a message unless
 * its ticket is open and it is new; the queue's head follows the new item in the same statement
 * (outbox heads, README). A message that opens a conversation over the quota stores nothing and
 * comes back `refused`. In a batch, a customer
 * whose row another transaction holds (an operator's reply, a status change) is skipped, not
 * waited for, and comes back `held`: `fastAcceptMessage` tries that message again, then leaves it
 * to the general path, which waits on its own, so one busy customer never holds up the others.
 *
 * Hand-off (README): with a lease end, a copy that will be its queue's head (the head row, locked,
 * is idle or missing) is filed already leased (`attempts` 1, `locked_until` the lease, the head
 * ready only then), and the worker delivers it without a claim. `took_head` says whether the
 * head upsert took it; when a concurrent first message of the same customer won the head (the
 * row did not exist yet), the caller gives the lease back.
 */
const FAST_ACCEPT_SQL = `${RETURNED}
from accept_web_messages($1::text::timestamptz, $2::text::uuid[], $3::text::text[],
	$4::text::text[], $5::text::text[], $6::text::timestamptz, $7::text::timestamptz[],
	$8::text::integer[], '{${KEPT}}', '${COPY}', '${ROUTE.target}', ${ROUTE.priority})`;

/**
 * A message alone (below a burst, nearly every one): the same steps in a function of its own
 * with scalar parameters (migration 0015), in the same order as above; about a tenth cheaper
 * for PostgreSQL than a batch of one, which parsed and unnested arrays. It waits for its
 * customer's row instead of skipping it, so it never comes back `held`.
 */
const ONE_MESSAGE_SQL = `${RETURNED}
from accept_web_message($1::text::timestamptz, $2::text::uuid, $3::text, $4::text, $5::text,
	$6::text::timestamptz, $7::text::timestamptz, $8::text::integer, '{${KEPT}}', '${COPY}',
	'${ROUTE.target}', ${ROUTE.priority})`;

/** One message of a batch: a customer's text (`lease` is always null: nothing is pre-leased). */
interface Request {
	customerId: string;
	channel: string;
	text: string;
	clientMessageId: string | null;
	lease: string | null;
	/** The daily cap on conversations to check when this message opens one; null: no check. */
	openingLimit: number | null;
}

/** Every database's batches (one per service; tests open several databases in one process). */
const batchesOf = new WeakMap<CoreDeps["database"], KeyedBatches<Request, Row>>();

/**
 * A batch per connection of the hot path's pool (two: one runs while the next gathers what
 * arrives meanwhile; more would only split the same work into smaller batches), 100 messages at
 * most per statement. How long a message alone may wait for others is the service's setting
 * (`ACCEPT_LINGER_MS`, `CoreDeps.acceptLingerMs`).
 */
const LIMITS = { inFlight: HOT_CONNECTIONS, size: 100 };

function batchesFor(deps: CoreDeps) {
	let batches = batchesOf.get(deps.database);
	if (!batches) {
		batches = new KeyedBatches<Request, Row>(
			(batch) => acceptBatch(deps, batch),
			(request) => request.customerId,
			{ ...LIMITS, lingerMs: deps.acceptLingerMs ?? 0 },
		);
		batchesOf.set(deps.database, batches);
	}
	return batches;
}

async function acceptBatch(deps: CoreDeps, batch: readonly Request[]) {
	const now = new Date();
	// The clock starts at the message, counted from the same instant as its fire time.
	const slaAt = slaFireAt(deps.policy, now);
	// The same parameters in the same order for both functions: a message alone as values, a
	// batch as arrays.
	const alone = batch.length === 1 ? batch[0] : undefined;
	const column = (pick: (request: Request) => string | null) =>
		alone ? pick(alone) : quotedArrayLiteral(batch.map(pick));
	const rows = await retryingConflicts(() =>
		prepared<Row>(deps.database.hot, alone ? ONE_MESSAGE_SQL : FAST_ACCEPT_SQL, [
			now.toISOString(),
			column((request) => request.customerId),
			column((request) => request.channel),
			column((request) => request.text),
			column((request) => request.clientMessageId),
			slaAt?.toISOString() ?? null,
			column((request) => request.lease),
			column((request) => numberText(request.openingLimit)),
		]),
	);
	const byCustomer = new Map(rows.map((row) => [row.customer_id.toLowerCase(), row]));
	return batch.map((request) => byCustomer.get(request.customerId.toLowerCase()));
}

/** Pauses before a held customer's message is tried again; still held after them: general path. */
const HELD_PAUSES_MS = [2, 4, 8, 16, 32];

const numberText = (value: number | null) => (value === null ? null : String(value));

const NIL = "00000000-0000-0000-0000-000000000000";

/**
 * Opens the hot path's connections and readies the accept on each (the prepared statement, the
 * functions compiled and planned) before the service takes visitors, so the first
 * messages after a start do not pay for it: a burst of 200 new customers on a process just
 * started waited 40–60 ms for its first statements. Runs the accept for a customer that cannot
 * exist (the nil UUID): nothing is written.
 */
export async function warmAcceptPath(deps: CoreDeps): Promise<void> {
	const run = (count: number) =>
		acceptBatch(
			deps,
			Array.from({ length: count }, () => ({
				customerId: NIL,
				channel: "web",
				text: "",
				clientMessageId: null,
				lease: null,
				openingLimit: 1,
			})),
		);
	// At once on each connection: the one-message function, then the set form.
	const perConnection = Array.from({ length: HOT_CONNECTIONS });
	await Promise.all(perConnection.map(() => run(1)));
	await Promise.all(perConnection.map(() => run(2)));
}

export async function fastAcceptMessage(
	deps: CoreDeps,
	input: CustomerMessageInput,
	text: string,
): Promise<StoredMessage | null> {
	if (input.replyTo) return null;
	const request: Request = {
		customerId: input.customerId,
		channel: input.channel,
		text,
		clientMessageId: input.clientMessageId ?? null,
		lease: null,
		openingLimit: input.openingLimit ?? null,
	};
	let row = await batchesFor(deps).submit(request);
	// Held (the customer's topic being created, an operator's reply): such a transaction ends
	// within milliseconds, and the hot path then takes the message; the general path at once
	// would queue a transaction of several statements on the main pool, which a burst of new
	// customers keeps busy (1% of such a burst's messages took 130-150 ms that way).
	for (const pause of HELD_PAUSES_MS) {
		if (!row?.held) break;
		await Bun.sleep(pause);
		row = await batchesFor(deps).submit(request);
	}
	if (!row || row.held) return null;
	if (row.refused) throw conversationsExceeded();
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
	deps.wakeOutbox(!row.took_head);
	return message;
}
