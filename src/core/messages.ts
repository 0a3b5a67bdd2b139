/**
 * Customer messages: validating the text, storing a message (either door) with what follows from
 * it, and accepting a web message idempotently by `clientMessageId`. The record itself is
 * `stored-message.ts`, paging is `message-history.ts`.
 */
import { and, eq } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { customers, messages } from "../db/schema.ts";
import {
	type CustomerMessageInput,
	statusAfterCustomerMessage,
	topicCopyOf,
} from "./customer-message-rules.ts";
import { AppError } from "./errors.ts";
import { fastAcceptMessage } from "./fast-accept.ts";
import { isUuid } from "./ids.ts";
import { chargeOpening } from "./quotas.ts";
import { changeStatus } from "./status.ts";
import { type MediaRef, type StoredMessage, toStored } from "./stored-message.ts";
import { armSla } from "./timer-arming.ts";
import { type CoreDeps, commit, type Work } from "./unit-of-work.ts";

export type { CustomerMessageInput } from "./customer-message-rules.ts";

export const MAX_TEXT = 4000;

/** Validates customer text the same way for HTTP and WebSocket. */
export function checkText(text: unknown): string {
	if (typeof text !== "string" || text.trim() === "")
		throw new AppError("INVALID_MESSAGE", "Message text must be a non-empty string.");
	if (text.length > MAX_TEXT)
		throw new AppError("MESSAGE_TOO_LONG", `Message text is longer than ${MAX_TEXT} characters.`);
	return text;
}

/**
 * Writes a customer's message (any channel) with what follows from it: the customer's last
 * activity, a reopened or resumed ticket, the copy owed to the topic and the echo to sockets.
 * `fast-accept.ts` does the same for the common web case in one statement: a new effect here
 * must be added there too: both take their rules from `customer-message-rules.ts`, and
 * tests/core/accept-paths.test.ts compares the rows the two paths write.
 */
export async function recordCustomerMessage(
	work: Work,
	input: CustomerMessageInput & { mediaId?: string; entities?: unknown },
	attachment?: MediaRef,
): Promise<StoredMessage> {
	const [row] = await work.tx
		.insert(messages)
		.values({
			customerId: input.customerId,
			author: "user",
			channel: input.channel,
			text: input.text,
			mediaId: input.mediaId ?? null,
			entities: input.entities ?? null,
			replyToId: input.replyTo ?? null,
			clientMessageId: input.clientMessageId ?? null,
		})
		.returning();
	if (!row) throw new Error("message insert returned nothing");
	const [customer] = await work.tx
		.update(customers)
		.set({ lastMessageAt: row.createdAt })
		.where(eq(customers.id, input.customerId))
		.returning({ status: customers.status });
	// The customer writing again reopens a closed ticket (before the message is copied, so the
	// notice comes first in the topic) and takes a waiting one back in progress.
	const next = customer && statusAfterCustomerMessage[customer.status];
	if (next) await changeStatus(work, input.customerId, next, "customer");
	await work.enqueue(input.customerId, topicCopyOf(row.id));
	await armSla(work, input.customerId, row.createdAt);
	const message = toStored(row, attachment);
	work.emit(input.customerId, { type: "message", message });
	return message;
}

export interface Accepted {
	message: StoredMessage;
	/** True when `clientMessageId` named a message already stored: nothing new happened. */
	duplicate: boolean;
}

async function byClientId(tx: Tx | Database["db"], customerId: string, clientMessageId: string) {
	const [row] = await tx
		.select()
		.from(messages)
		.where(and(eq(messages.customerId, customerId), eq(messages.clientMessageId, clientMessageId)))
		.limit(1);
	return row;
}

/**
 * Stores a customer's message, owes its copy to the topic and echoes it to the customer's
 * sockets, all after one commit. A repeated `clientMessageId` returns the stored message again.
 */
export async function acceptCustomerMessage(
	deps: CoreDeps,
	input: CustomerMessageInput,
): Promise<Accepted> {
	const text = checkText(input.text);
	const fast = await fastAcceptMessage(deps, input, text);
	if (fast) return { message: fast, duplicate: false };
	// Not the hot path's case (it spent nothing): the conversation quota in a statement of its own.
	await chargeOpening(deps.database, input.customerId, input.openingLimit);
	try {
		return await commit(deps, async (work) => {
			if (input.clientMessageId) {
				const existing = await byClientId(work.tx, input.customerId, input.clientMessageId);
				if (existing) return { message: toStored(existing), duplicate: true };
			}
			if (input.replyTo) await assertOwnMessage(work.tx, input.customerId, input.replyTo);
			const message = await recordCustomerMessage(work, { ...input, text });
			return { message, duplicate: false };
		});
	} catch (error) {
		// Two retries racing with one clientMessageId: the loser returns the winner's message.
		if (input.clientMessageId && isUniqueViolation(error)) {
			const existing = await byClientId(deps.database.db, input.customerId, input.clientMessageId);
			if (existing) return { message: toStored(existing), duplicate: true };
		}
		throw error;
	}
}

async function assertOwnMessage(tx: Tx, customerId: string, id: string) {
	const found =
		isUuid(id) &&
		(
			await tx
				.select({ id: messages.id })
				.from(messages)
				.where(and(eq(messages.id, id), eq(messages.customerId, customerId)))
				.limit(1)
		).length > 0;
	if (!found)
		throw new AppError("INVALID_MESSAGE", "replyTo does not name a message of this conversation.");
}
