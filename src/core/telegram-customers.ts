/**
 * Customers who write to the bot in a private chat: who they are, their messages,
 * their phone number. The Telegram door turns updates into these plain inputs.
 */
import { and, eq, sql } from "drizzle-orm";
import { customers, messageCopies, messages } from "../db/schema.ts";
import type { Locale } from "../i18n/texts.ts";
import { recordCustomerMessages } from "./customer-messages.ts";
import { recordEvent } from "./status.ts";
import type { StoredMessage } from "./stored-message.ts";
import { chooseGroup } from "./support-groups.ts";
import { storeTelegramMedia, type TelegramMedia } from "./telegram-media.ts";
import type { Work } from "./unit-of-work.ts";

export interface TelegramPerson {
	id: number;
	firstName: string;
	lastName?: string;
	username?: string;
	languageCode?: string;
}

/** `<first> <last> (@username)`, the topic name of a Telegram customer. */
export function telegramDisplayName(
	person: Pick<TelegramPerson, "firstName" | "lastName" | "username">,
) {
	const name = [person.firstName, person.lastName].filter(Boolean).join(" ").trim() || "Telegram";
	return person.username ? `${name} (@${person.username})` : name;
}

export function localeOf(languageCode: string | undefined, fallback: Locale): Locale {
	if (!languageCode) return fallback;
	return languageCode.toLowerCase().startsWith("ru")
		? "ru"
		: languageCode.toLowerCase().startsWith("en")
			? "en"
			: fallback;
}

export type TelegramCustomer = typeof customers.$inferSelect;

/**
 * The customer behind a Telegram account, created on first contact. A changed name or username
 * is kept current (and the card and topic name follow).
 */
export async function upsertTelegramCustomer(
	work: Work,
	person: TelegramPerson,
	defaultLocale: Locale,
): Promise<{ customer: TelegramCustomer; created: boolean }> {
	const [existing] = await work.tx
		.select()
		.from(customers)
		.where(eq(customers.telegramUserId, person.id))
		.for("update");
	if (existing) {
		const changed =
			existing.telegramFirstName !== person.firstName ||
			(existing.telegramLastName ?? undefined) !== person.lastName ||
			(existing.telegramUsername ?? undefined) !== person.username;
		if (!changed) return { customer: existing, created: false };
		const [updated] = await work.tx
			.update(customers)
			.set({
				telegramFirstName: person.firstName,
				telegramLastName: person.lastName ?? null,
				telegramUsername: person.username ?? null,
				displayName: telegramDisplayName(person),
			})
			.where(eq(customers.id, existing.id))
			.returning();
		if (existing.topicId != null) {
			await work.enqueue(existing.id, { kind: "topic_rename" });
			await work.enqueue(existing.id, { kind: "card" });
		}
		return { customer: updated ?? existing, created: false };
	}
	const [created] = await work.tx
		.insert(customers)
		.values({
			displayName: telegramDisplayName(person),
			telegramUserId: person.id,
			telegramFirstName: person.firstName,
			telegramLastName: person.lastName ?? null,
			telegramUsername: person.username ?? null,
			locale: localeOf(person.languageCode, defaultLocale),
			groupId: await chooseGroup(work.tx, work.groups, {
				channel: "telegram",
				locale: person.languageCode ?? null,
			}),
		})
		.returning();
	if (!created) throw new Error("customer insert returned nothing");
	await recordEvent(work, created.id, "OPENED", "customer", { channel: "telegram" });
	return { customer: created, created: true };
}

/** The stored message a Telegram message id refers to, through its copies in that chat. */
export async function messageByCopy(work: Work, chatId: number, telegramMessageId: number) {
	const [copy] = await work.tx
		.select({ messageId: messageCopies.messageId })
		.from(messageCopies)
		.where(
			and(eq(messageCopies.chatId, chatId), eq(messageCopies.telegramMessageId, telegramMessageId)),
		)
		.limit(1);
	return copy?.messageId ?? null;
}

export interface DmMessageInput {
	customer: TelegramCustomer;
	dmMessageId: number;
	text: string;
	entities?: unknown;
	media?: TelegramMedia;
	replyToDmMessageId?: number;
}

/**
 * Stores a customer's private-chat message and what follows from it. The first real message is
 * the question: the customer is told the request exists and, once, offered to leave a phone.
 */
export async function acceptTelegramMessage(
	work: Work,
	input: DmMessageInput,
): Promise<StoredMessage> {
	const chatId = input.customer.telegramUserId as number;
	const [previous] = await work.tx
		.select({ id: messages.id })
		.from(messages)
		.where(and(eq(messages.customerId, input.customer.id), eq(messages.author, "user")))
		.limit(1);
	const replyTo =
		input.replyToDmMessageId !== undefined
			? ((await messageByCopy(work, chatId, input.replyToDmMessageId)) ?? undefined)
			: undefined;
	const attachment =
		(input.media && (await storeTelegramMedia(work, input.customer.id, input.media))) || undefined;
	const [recorded] = await recordCustomerMessages(work, [
		{
			customerId: input.customer.id,
			channel: "telegram",
			text: input.text,
			entities: input.entities,
			attachment,
			replyTo,
		},
	]);
	if (recorded?.kind !== "stored") throw new Error("a private-chat message was not stored");
	const { message } = recorded;
	// The customer's own message in their chat: the original every later copy refers back to.
	await work.tx.insert(messageCopies).values({
		messageId: message.id,
		kind: "dm",
		chatId,
		telegramMessageId: input.dmMessageId,
		state: "delivered",
	});
	if (!previous) {
		await work.enqueue(input.customer.id, { kind: "dm_text", text: "dmTicketCreated" });
		if (!input.customer.phoneAskedAt && !input.customer.phone) {
			await work.enqueue(input.customer.id, {
				kind: "dm_text",
				text: "dmAskPhone",
				keyboard: "phone",
			});
			await work.tx
				.update(customers)
				.set({ phoneAskedAt: sql`now()` })
				.where(eq(customers.id, input.customer.id));
		}
	}
	return message;
}

/** The customer shared their own contact: the phone is stored and shown on the card. */
export async function savePhone(work: Work, customerId: string, phone: string) {
	const normalized = phone.startsWith("+") ? phone : `+${phone}`;
	await work.tx.update(customers).set({ phone: normalized }).where(eq(customers.id, customerId));
	await recordEvent(work, customerId, "PHONE_UPDATED", "customer", { phone: normalized });
	await work.enqueue(customerId, { kind: "card" });
	await work.enqueue(customerId, {
		kind: "topic_notice",
		text: "noticePhone",
		vars: { phone: normalized },
	});
	await work.enqueue(customerId, { kind: "dm_text", text: "dmPhoneSaved", keyboard: "remove" });
}

/**
 * The customer edited a message in the private chat: the stored text follows, open widgets get
 * `message_edited`, and the copy in the topic is edited by the outbox.
 */
export async function editCustomerMessage(
	work: Work,
	input: { chatId: number; dmMessageId: number; text: string },
): Promise<boolean> {
	const messageId = await messageByCopy(work, input.chatId, input.dmMessageId);
	if (!messageId) return false;
	const editedAt = new Date();
	const [row] = await work.tx
		.update(messages)
		.set({ text: input.text, editedAt })
		.where(and(eq(messages.id, messageId), eq(messages.author, "user")))
		.returning({ customerId: messages.customerId });
	if (!row) return false;
	work.emit(row.customerId, {
		type: "message_edited",
		id: messageId,
		text: input.text,
		editedAt: editedAt.toISOString(),
	});
	await work.enqueue(row.customerId, { kind: "topic_edit", messageId });
	return true;
}
