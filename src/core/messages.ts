/**
 * A web visitor's text message: validated, then stored with what follows from it
 * (`customer-messages.ts`) idempotently by `clientMessageId`. Messages of different visitors that
 * arrive while another batch commits share the next transaction (`group-commit.ts`). The record
 * itself is `stored-message.ts`, paging is `message-history.ts`.
 */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { messages } from "../db/schema.ts";
import { acceptAtOnce, recordCustomerMessages } from "./customer-messages.ts";
import { AppError } from "./errors.ts";
import { GroupCommit } from "./group-commit.ts";
import { isUuid } from "./ids.ts";
import { conversationsExceeded } from "./quotas.ts";
import type { CustomerMessageInput, RecordedMessage, StoredMessage } from "./stored-message.ts";
import { type CoreDeps, commit, type MessageBatches } from "./unit-of-work.ts";

export const MAX_TEXT = 4000;

/** Validates customer text the same way for HTTP and WebSocket. */
export function checkText(text: unknown): string {
	if (typeof text !== "string" || text.trim() === "")
		throw new AppError("INVALID_MESSAGE", "Message text must be a non-empty string.");
	if (text.length > MAX_TEXT)
		throw new AppError("MESSAGE_TOO_LONG", `Message text is longer than ${MAX_TEXT} characters.`);
	return text;
}

export interface Accepted {
	message: StoredMessage;
	/** True when `clientMessageId` named a message already stored: nothing new happened. */
	duplicate: boolean;
}

/**
 * Messages per transaction, and transactions at once: one commits while the next gathers what
 * arrives meanwhile; more would only split the same work into smaller batches.
 */
const BATCH = { size: 100, inFlight: 2 };

/**
 * The service's group commit of customers' messages (one per service, in `CoreDeps`). In a batch
 * of several, a customer whose row another transaction holds is skipped and then runs alone,
 * waiting for it, so it holds up no one else.
 */
export function createMessageBatches(deps: CoreDeps): MessageBatches {
	return new GroupCommit<CustomerMessageInput, RecordedMessage>({
		...BATCH,
		keyOf: (input) => input.customerId.toLowerCase(),
		run: async (batch) => {
			const skipHeld = batch.length > 1;
			// A conversation's first message spends a quota: those batches take a transaction.
			if (batch.some((input) => input.openingLimit !== undefined)) {
				const recorded = await commit(deps, (work) =>
					recordCustomerMessages(work, batch, { skipHeld }),
				);
				return recorded.map((result) => (result.kind === "held" ? undefined : result));
			}
			const atOnce = await acceptAtOnce(deps, batch, skipHeld);
			const rest = batch.filter((_, index) => atOnce[index] === "in-transaction");
			const done =
				rest.length > 0 ? await commit(deps, (work) => recordCustomerMessages(work, rest)) : [];
			let next = 0;
			return atOnce.map((result) => {
				const recorded = result === "in-transaction" ? done[next++] : result;
				return recorded === "held" || recorded?.kind === "held" ? undefined : recorded;
			});
		},
	});
}

/**
 * Stores a customer's message, owes its copy to the topic and echoes it to the customer's
 * sockets, all after one commit. A repeated `clientMessageId` returns the stored message again.
 */
export async function acceptCustomerMessage(
	deps: CoreDeps,
	input: CustomerMessageInput,
): Promise<Accepted> {
	const request = { ...input, text: checkText(input.text) };
	if (input.replyTo) await assertOwnMessage(deps.database, input.customerId, input.replyTo);
	const recorded = deps.messageBatches
		? await deps.messageBatches.submit(request)
		: (await commit(deps, (work) => recordCustomerMessages(work, [request])))[0];
	if (recorded?.kind === "refused") throw conversationsExceeded();
	if (recorded?.kind !== "stored") throw new Error("the message was not recorded");
	return { message: recorded.message, duplicate: recorded.duplicate };
}

async function assertOwnMessage(database: Database, customerId: string, id: string) {
	const found =
		isUuid(id) &&
		(
			await database.db
				.select({ id: messages.id })
				.from(messages)
				.where(and(eq(messages.id, id), eq(messages.customerId, customerId)))
				.limit(1)
		).length > 0;
	if (!found)
		throw new AppError("INVALID_MESSAGE", "replyTo does not name a message of this conversation.");
}
