/**
 * What a customer's message does to the ticket, whichever door it came through: the message is
 * stored (once per `clientMessageId`), the customer's last activity moves, a closed ticket
 * reopens and a waiting one goes back in progress, the copy owed to the topic is filed, the SLA
 * clock starts, the customer's sockets get the echo, and a message that opens a conversation
 * spends the client's conversation quota; outside business hours an opening or a reopening gets
 * the away message (away.ts). Written once, in set form: the messages of many
 * customers (a group commit) take the same statements as one message. The accept statement
 * (accept-statement.ts) does the storing for every message; web messages that change no ticket
 * and open no conversation take it alone (`acceptAtOnce`), the others take it inside the
 * transaction of `recordCustomerMessages`, after the reopen and the quota.
 */
import { and, eq, or } from "drizzle-orm";
import { retryingConflicts } from "../db/errors.ts";
import { messages, type TicketStatus, ticketEvents } from "../db/schema.ts";
import { acceptStatements, lockCustomers, runAccept } from "./accept-statement.ts";
import { answerAway } from "./away.ts";
import { spendOnOpenings } from "./quotas.ts";
import { slaFireAt } from "./sla-clock.ts";
import { changeStatus } from "./status.ts";
import { type CustomerMessageInput, type RecordedMessage, toStored } from "./stored-message.ts";
import type { CoreDeps, Work } from "./unit-of-work.ts";

type MessageRow = typeof messages.$inferSelect;

/**
 * The customer writing again reopens a closed ticket and takes a waiting one back in progress;
 * other statuses stay as they are.
 */
const statusAfterCustomerMessage: Partial<Record<TicketStatus, TicketStatus>> = {
	CLOSED: "NEW",
	WAITING_CLIENT: "IN_PROGRESS",
};

/** The accept statement, for this rule of which tickets a message changes. */
const ACCEPT = acceptStatements(Object.keys(statusAfterCustomerMessage) as TicketStatus[]);

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
 * Records the messages of distinct customers in the caller's transaction, with everything that
 * follows from them; answers what became of each, in the order given. The number of statements
 * does not grow with the number of messages, except for a status change (a reopen), which goes
 * through `changeStatus` before the accept statement files the copies, so that its notice comes
 * first in the topic.
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
	// The customers' rows first: their status tells which tickets the messages reopen, and the
	// quota is then read and spent only for the messages of the rows locked.
	const statusOf = await lockCustomers(work.tx, ids, options.skipHeld ?? false);
	if (options.skipHeld)
		for (const id of ids) if (!statusOf.has(id)) outcome.set(id, { kind: "held" });
	const { refused, opening } = await spendOnOpenings(
		work.tx,
		openers.filter((opener) => !outcome.has(idOf(opener.customerId))),
	);
	for (const id of refused) outcome.set(id, { kind: "refused" });
	const toStore = inputs.filter((input) => !outcome.has(idOf(input.customerId)));
	// Reopened before the copies are filed, so the notice comes first in the topic.
	for (const input of toStore) {
		const status = statusOf.get(idOf(input.customerId));
		const next = status && statusAfterCustomerMessage[status];
		if (next) await changeStatus(work, input.customerId, next, "customer");
	}
	// The statement below files the copies itself: a reopen's notice goes in first.
	await work.fileOwed();
	const since = new Date();
	const accepted = await runAccept(work.tx, ACCEPT.waiting, toStore, {
		since,
		fireAt: slaFireAt(work.policy, since),
	});
	for (const input of toStore) {
		const row = accepted.inserted.get(idOf(input.customerId));
		if (row) outcome.set(idOf(input.customerId), storedNow(row, input));
	}
	const opened = toStore.filter(
		(input) => opening.has(idOf(input.customerId)) && accepted.inserted.has(idOf(input.customerId)),
	);
	if (opened.length > 0)
		await work.tx.insert(ticketEvents).values(
			opened.map((input) => ({
				customerId: input.customerId,
				kind: "OPENED",
				actor: "customer",
				details: { channel: input.channel },
			})),
		);
	for (const [id, message] of await storedBefore(work, toStore, outcome))
		outcome.set(id, { kind: "stored", message, duplicate: true });
	if (accepted.inserted.size > 0) work.outboxChanged(accepted.queuedBehind);
	for (const result of outcome.values())
		if (result.kind === "stored" && !result.duplicate)
			work.emit(result.message.customerId, { type: "message", message: result.message });
	// After the echoes: the customer sees their message, then the desk's answer to it.
	await answerAway(
		work,
		toStore
			.filter((input) => accepted.inserted.has(idOf(input.customerId)))
			.map((input) => ({
				customerId: input.customerId,
				channel: input.channel,
				reopened: statusOf.get(idOf(input.customerId)) === "CLOSED",
			})),
	);
	return ids.map((id) => {
		const result = outcome.get(id);
		if (!result) throw new Error("a customer's message was neither stored nor found");
		return result;
	});
}

/** The messages stored earlier under the `clientMessageId`s that inserted nothing now. */
async function storedBefore(
	work: Work,
	inputs: readonly CustomerMessageInput[],
	outcome: ReadonlyMap<string, RecordedMessage>,
) {
	const repeats = inputs.filter((input) => !outcome.has(idOf(input.customerId)));
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

const storedNow = (row: MessageRow, input: CustomerMessageInput): RecordedMessage => ({
	kind: "stored",
	message: toStored(row, input.attachment),
	duplicate: false,
});

/** What `acceptAtOnce` did with a message: recorded, skipped as held, or left to a transaction. */
export type AtOnce = RecordedMessage | "held" | "in-transaction";

/**
 * Web messages of distinct customers, none opening a conversation, recorded by the accept
 * statement alone (no transaction around it): the common case, where the customers' rows stay
 * locked only while the statement runs. A message whose ticket it would change, or whose
 * `clientMessageId` was stored before, comes back "in-transaction" for `recordCustomerMessages`;
 * with `skipHeld`, one whose customer's row another transaction holds comes back "held".
 */
export async function acceptAtOnce(
	deps: CoreDeps,
	inputs: readonly CustomerMessageInput[],
	skipHeld: boolean,
): Promise<AtOnce[]> {
	const since = new Date();
	const accepted = await retryingConflicts(() =>
		runAccept(deps.database, skipHeld ? ACCEPT.skipping : ACCEPT.waiting, inputs, {
			since,
			fireAt: slaFireAt(deps.policy, since),
		}),
	);
	const results = inputs.map((input): AtOnce => {
		const id = idOf(input.customerId);
		const row = accepted.inserted.get(id);
		if (row) return storedNow(row, input);
		return accepted.statusOf.has(id) ? "in-transaction" : "held";
	});
	for (const result of results)
		if (typeof result !== "string" && result.kind === "stored")
			deps.bus.publish(result.message.customerId, { type: "message", message: result.message });
	if (accepted.inserted.size > 0) deps.wakeOutbox(accepted.queuedBehind);
	return results;
}
