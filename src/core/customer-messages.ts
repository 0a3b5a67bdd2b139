/**
 * What a customer's message does to the ticket, whichever door it came through: the message is
 * stored (once per `clientMessageId`), the customer's last activity moves, a closed ticket
 * reopens and a waiting one goes back in progress, the copy owed to the topic is filed, the SLA
 * clock starts, the customer's sockets get the echo, and a message that opens a conversation
 * spends the client's conversation quota. Written once, in set form: the messages of many
 * customers (a group commit) take the same few statements as one message.
 */
import { and, eq, or } from "drizzle-orm";
import { messages, type TicketStatus } from "../db/schema.ts";
import { spendOnOpenings } from "./quotas.ts";
import { lockCustomers, recordStatement } from "./record-statement.ts";
import { slaFireAt } from "./sla-clock.ts";
import { changeStatus } from "./status.ts";
import { type CustomerMessageInput, type RecordedMessage, toStored } from "./stored-message.ts";
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
 * Records the messages of distinct customers in the caller's transaction, with everything that
 * follows from them; answers what became of each, in the order given. The quota and the tickets
 * to reopen are read first, without locking anything; the reopens go through `changeStatus`
 * before the copies are filed, so that their notice comes first in the topic; then one statement
 * (record-statement.ts) does the rest for all of them, so the customers' rows stay locked only
 * from that statement to the commit.
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
	// The rows first, in key order as every writer of customers locks them; their status tells
	// which tickets the messages reopen, and the quota is read and spent only for those locked.
	const statusOf = await lockCustomers(work, ids, options.skipHeld ?? false);
	for (const id of ids) if (!statusOf.has(id)) outcome.set(id, { kind: "held" });
	const refused = await spendOnOpenings(
		work.tx,
		openers.filter((opener) => !outcome.has(idOf(opener.customerId))),
	);
	for (const id of refused) outcome.set(id, { kind: "refused" });
	const toStore = inputs.filter((input) => !outcome.has(idOf(input.customerId)));
	if (toStore.length === 0) return answers(ids, outcome);
	// Reopened before the copies are filed, so the notice comes first in the topic.
	for (const input of toStore) {
		const next = statusAfterCustomerMessage[statusOf.get(idOf(input.customerId)) as TicketStatus];
		if (next) await changeStatus(work, input.customerId, next, "customer");
	}
	const since = new Date();
	const recorded = await recordStatement(work, toStore, {
		since,
		fireAt: slaFireAt(work.policy, since),
	});
	for (const input of toStore) {
		const row = recorded.inserted.get(idOf(input.customerId));
		if (row)
			outcome.set(idOf(input.customerId), {
				kind: "stored",
				message: toStored(row, input.attachment),
				duplicate: false,
			});
	}
	for (const [id, message] of await storedBefore(work, toStore, outcome))
		outcome.set(id, { kind: "stored", message, duplicate: true });
	if (recorded.inserted.size > 0) work.outboxChanged(recorded.queuedBehind);
	for (const result of outcome.values())
		if (result.kind === "stored" && !result.duplicate)
			work.emit(result.message.customerId, { type: "message", message: result.message });
	return answers(ids, outcome);
}

function answers(ids: readonly string[], outcome: ReadonlyMap<string, RecordedMessage>) {
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
