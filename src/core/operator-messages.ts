/**
 * Operators answer inside a customer's topic; their messages are stored once and reach every
 * channel the customer uses.
 */
import { and, eq } from "drizzle-orm";
import { customers, messageCopies, messages } from "../db/schema.ts";
import { type StoredMessage, toStored } from "./messages.ts";
import type { Work } from "./unit-of-work.ts";

export interface OperatorMessageInput {
	topicId: number;
	groupId: number;
	telegramMessageId: number;
	text: string;
}

/**
 * Records an operator's message posted in a topic and pushes it to the customer's sockets.
 * Returns null when the topic belongs to no customer (e.g. a topic operators made themselves).
 */
export async function recordOperatorMessage(
	work: Work,
	input: OperatorMessageInput,
): Promise<StoredMessage | null> {
	const [customer] = await work.tx
		.select({ id: customers.id })
		.from(customers)
		.where(eq(customers.topicId, input.topicId))
		.limit(1);
	if (!customer) return null;
	const [row] = await work.tx
		.insert(messages)
		.values({ customerId: customer.id, author: "support", channel: "telegram", text: input.text })
		.returning();
	if (!row) throw new Error("message insert returned nothing");
	await work.tx.insert(messageCopies).values({
		messageId: row.id,
		kind: "topic",
		chatId: input.groupId,
		telegramMessageId: input.telegramMessageId,
		state: "delivered",
	});
	const message = toStored(row);
	work.emit(customer.id, { type: "message", message });
	return message;
}

/**
 * An operator edited a message already delivered: the stored text changes and open widgets get
 * `message_edited`. Edits of anything that is not an operator's message are ignored.
 */
export async function editOperatorMessage(
	work: Work,
	input: { groupId: number; telegramMessageId: number; text: string },
): Promise<boolean> {
	const [copy] = await work.tx
		.select({ messageId: messageCopies.messageId })
		.from(messageCopies)
		.innerJoin(messages, eq(messages.id, messageCopies.messageId))
		.where(
			and(
				eq(messageCopies.chatId, input.groupId),
				eq(messageCopies.telegramMessageId, input.telegramMessageId),
				eq(messageCopies.kind, "topic"),
				eq(messages.author, "support"),
			),
		)
		.limit(1);
	if (!copy) return false;
	const editedAt = new Date();
	const [row] = await work.tx
		.update(messages)
		.set({ text: input.text, editedAt })
		.where(eq(messages.id, copy.messageId))
		.returning({ customerId: messages.customerId });
	if (!row) return false;
	work.emit(row.customerId, {
		type: "message_edited",
		id: copy.messageId,
		text: input.text,
		editedAt: editedAt.toISOString(),
	});
	return true;
}
