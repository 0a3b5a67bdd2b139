/**
 * Operators answer inside a customer's topic; their messages are stored once and reach every
 * channel the customer uses.
 */
import { and, eq } from "drizzle-orm";
import { customers, messageCopies, messages } from "../db/schema.ts";
import { changeStatus } from "./status.ts";
import { type StoredMessage, toStored } from "./stored-message.ts";
import { hasWebSession, messageByCopy } from "./telegram-customers.ts";
import { storeTelegramMedia, type TelegramMedia } from "./telegram-media.ts";
import { cancelTimers } from "./timer-arming.ts";
import type { Work } from "./unit-of-work.ts";

export interface OperatorMessageInput {
	topicId: number;
	groupId: number;
	telegramMessageId: number;
	text: string;
	entities?: unknown;
	media?: TelegramMedia;
	/** The topic message this one replies to, if any (not the topic's root). */
	replyToTelegramMessageId?: number;
	operatorId?: number;
}

/**
 * Records an operator's message posted in a topic and delivers it to every channel of the
 * customer: stored and pushed to the widget at once, copied to the private chat by the outbox.
 * Returns null when the topic belongs to no customer (e.g. a topic operators made themselves).
 */
export async function recordOperatorMessage(
	work: Work,
	input: OperatorMessageInput,
): Promise<StoredMessage | null> {
	// The customer row is locked first, as every other path does (a web message updates it before
	// touching its timers): one lock order, no deadlock between an answer and a question.
	const [customer] = await work.tx
		.select({ id: customers.id, telegramUserId: customers.telegramUserId })
		.from(customers)
		.where(eq(customers.topicId, input.topicId))
		.limit(1)
		.for("update");
	if (!customer) return null;
	const replyTo =
		input.replyToTelegramMessageId !== undefined
			? await messageByCopy(work, input.groupId, input.replyToTelegramMessageId)
			: null;
	const attachment = input.media ? await storeTelegramMedia(work, customer.id, input.media) : null;
	const [row] = await work.tx
		.insert(messages)
		.values({
			customerId: customer.id,
			author: "support",
			channel: "telegram",
			text: input.text,
			entities: input.entities ?? null,
			mediaId: attachment?.id ?? null,
			replyToId: replyTo,
		})
		.returning();
	if (!row) throw new Error("message insert returned nothing");
	await work.tx.insert(messageCopies).values({
		messageId: row.id,
		kind: "topic",
		chatId: input.groupId,
		telegramMessageId: input.telegramMessageId,
		state: "delivered",
	});
	const message = toStored(row, attachment);
	work.emit(customer.id, { type: "message", message });
	// An operator answered: the SLA clock stops until the customer writes again.
	await cancelTimers(work, customer.id, ["sla"]);
	if (customer.telegramUserId != null)
		await work.enqueue(customer.id, { kind: "dm_message", messageId: row.id });
	// Stored and pushed is delivered for a web customer; a Telegram-only customer's reply counts
	// once the outbox has copied it into the private chat.
	if (await hasWebSession(work, customer.id))
		await markReplyDelivered(work, customer.id, input.operatorId);
	return message;
}

/** NEW → IN_PROGRESS once an operator reply reached at least one channel (SPEC §3.4). */
export async function markReplyDelivered(work: Work, customerId: string, operatorId?: number) {
	await changeStatus(
		work,
		customerId,
		"IN_PROGRESS",
		operatorId ? `operator:${operatorId}` : "operator",
		{
			onlyFrom: ["NEW"],
		},
	);
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
	// The customer's private-chat copy follows (the handler skips messages never copied there).
	await work.enqueue(row.customerId, { kind: "dm_edit", messageId: copy.messageId });
	work.emit(row.customerId, {
		type: "message_edited",
		id: copy.messageId,
		text: input.text,
		editedAt: editedAt.toISOString(),
	});
	return true;
}
