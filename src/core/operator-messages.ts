/**
 * Operators answer inside a customer's topic; their messages are stored once and reach every
 * channel the customer uses.
 */
import { eq } from "drizzle-orm";
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
