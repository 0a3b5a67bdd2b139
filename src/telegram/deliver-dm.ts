/**
 * Outbox handlers for the customer's private chat: the bot's own texts (`dm_text`), operators'
 * messages (`dm_message`, with the "✅ Resolved" button), their edits (`dm_edit`) and, after
 * linking, the conversation so far (`dm_digest`). A chat that cannot be reached is reported in
 * the topic; the web channel is never held up by it.
 */
import { and, desc, eq, inArray } from "drizzle-orm";
import { markReplyDelivered } from "../core/operator-messages.ts";
import { commit } from "../core/unit-of-work.ts";
import { customers, messages } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import type { Texts } from "../i18n/texts.ts";
import type { OutboxHandler } from "../outbox/delivery.ts";
import type { DmKeyboard, Vars } from "../outbox/items.ts";
import { classifyFailure } from "./bot-api.ts";
import { loadCardView, renderCard } from "./card.ts";
import { editCardMessage } from "./card-message.ts";
import { copyIdOf, customerHasWeb, recordCopy, replyTo } from "./copies.ts";
import type { TopicDeps } from "./topics.ts";

export interface DmDeps extends TopicDeps {
	/** The texts in a customer's language (their Telegram language, else the desk's). */
	textsFor(locale: string | null): Texts;
}

/** The inline button under every operator message in the private chat. */
export const resolvedButton = (texts: Texts) => ({
	inline_keyboard: [[{ text: texts.get("dmResolvedButton"), callback_data: "resolve" }]],
});

function keyboardFor(kind: DmKeyboard | undefined, texts: Texts) {
	switch (kind) {
		case "phone":
			return {
				keyboard: [
					[{ text: texts.get("dmSharePhoneButton"), request_contact: true }],
					[{ text: texts.get("dmSkipButton") }],
				],
				resize_keyboard: true,
				one_time_keyboard: true,
			};
		case "remove":
			return { remove_keyboard: true as const };
		case "rating":
			return {
				inline_keyboard: [
					[1, 2, 3, 4, 5].map((n) => ({ text: "⭐".repeat(n), callback_data: `rate:${n}` })),
				],
			};
		default:
			return undefined;
	}
}

async function customerChat(deps: DmDeps, customerId: string) {
	const [row] = await deps.database.db
		.select({ chatId: customers.telegramUserId, locale: customers.locale })
		.from(customers)
		.where(eq(customers.id, customerId));
	return row?.chatId == null ? null : { chatId: row.chatId, texts: deps.textsFor(row.locale) };
}

const isNotModified = (error: unknown) => /not modified/i.test(classifyFailure(error).description);

export function dmTextHandler(deps: DmDeps): OutboxHandler {
	return async ({ item }) => {
		const chat = await customerChat(deps, item.customerId);
		if (!chat) return;
		const markup = keyboardFor(item.payload.keyboard as DmKeyboard | undefined, chat.texts);
		try {
			await deps.api.sendMessage({
				chat_id: chat.chatId,
				text: chat.texts.get(item.payload.text as TextKey, item.payload.vars as Vars | undefined),
				...(markup ? { reply_markup: markup } : {}),
			});
		} catch (error) {
			// The bot's own courtesy texts to a chat that blocked it are simply not owed any more.
			if (classifyFailure(error).kind === "permanent") return;
			throw error;
		}
	};
}

export function dmMessageHandler(deps: DmDeps): OutboxHandler {
	return async ({ item, complete }) => {
		const messageId = String(item.payload.messageId);
		const chat = await customerChat(deps, item.customerId);
		const [message] = await deps.database.db
			.select()
			.from(messages)
			.where(eq(messages.id, messageId));
		if (!chat || !message) return;
		const source = await copyIdOf(deps.database, messageId, "topic");
		// No topic message to copy: a text the bot sent on the operator's behalf (a canned reply).
		if (source === undefined && !message.text) return;
		const reply = await copyIdOf(deps.database, message.replyToId, "dm");
		try {
			const target = {
				chat_id: chat.chatId,
				reply_markup: resolvedButton(chat.texts),
				...replyTo(reply),
			};
			const sent =
				source === undefined
					? await deps.api.sendMessage({ ...target, text: message.text })
					: await deps.api.copyMessage({
							...target,
							from_chat_id: deps.groupId,
							message_id: source,
						});
			// The copy, the item's completion and the reply's effects (status, events): one
			// transaction, so a crash between them can neither resend nor lose an effect.
			await commit(deps.core, async (work) => {
				await recordCopy(work.tx, {
					messageId,
					kind: "dm",
					chatId: chat.chatId,
					telegramMessageId: sent.message_id,
				});
				await markReplyDelivered(work, item.customerId);
				await complete(work.tx);
			});
		} catch (error) {
			const failure = classifyFailure(error);
			if (failure.kind !== "permanent") throw error;
			const blocked = failure.code === 403;
			await commit(deps.core, async (work) => {
				await recordCopy(work.tx, {
					messageId,
					kind: "dm",
					chatId: chat.chatId,
					telegramMessageId: null,
					error: failure.description,
				});
				await work.enqueue(item.customerId, {
					kind: "topic_notice",
					text: blocked ? "noticeBlocked" : "noticeDmFailed",
					vars: { reason: failure.description },
				});
				await complete(work.tx);
			});
		}
	};
}

export function dmEditHandler(deps: DmDeps): OutboxHandler {
	return async ({ item }) => {
		const messageId = String(item.payload.messageId);
		const chat = await customerChat(deps, item.customerId);
		const copy = await copyIdOf(deps.database, messageId, "dm");
		const [message] = await deps.database.db
			.select()
			.from(messages)
			.where(eq(messages.id, messageId));
		if (!chat || copy === undefined || !message) return;
		const target = {
			chat_id: chat.chatId,
			message_id: copy,
			reply_markup: resolvedButton(chat.texts),
		};
		try {
			if (message.mediaId) await deps.api.editMessageCaption({ ...target, caption: message.text });
			else await deps.api.editMessageText({ ...target, text: message.text });
		} catch (error) {
			if (isNotModified(error) || classifyFailure(error).kind === "permanent") return;
			throw error;
		}
	};
}

const DIGEST_MESSAGES = 10;
const DIGEST_CHARS = 3800;

export function dmDigestHandler(deps: DmDeps): OutboxHandler {
	return async ({ item }) => {
		const chat = await customerChat(deps, item.customerId);
		if (!chat) return;
		const rows = await deps.database.db
			.select({ author: messages.author, text: messages.text })
			.from(messages)
			.where(
				and(
					eq(messages.customerId, item.customerId),
					inArray(messages.author, ["user", "support"]),
				),
			)
			.orderBy(desc(messages.customerSeq))
			.limit(DIGEST_MESSAGES);
		const lines = rows
			.reverse()
			.filter((row) => row.text.trim())
			.map(
				(row) =>
					`${chat.texts.get(row.author === "user" ? "dmDigestCustomer" : "dmDigestSupport")}: ${row.text}`,
			);
		if (lines.length === 0) return;
		let text = `${chat.texts.get("dmDigestTitle")}\n\n${lines.join("\n")}`;
		if (text.length > DIGEST_CHARS) text = `${text.slice(0, DIGEST_CHARS - 1)}…`;
		try {
			await deps.api.sendMessage({ chat_id: chat.chatId, text });
		} catch (error) {
			if (classifyFailure(error).kind === "permanent") return;
			throw error;
		}
	};
}

/** `topic_edit`: the customer edited a message in the DM; its copy in the topic follows. */
export function topicEditHandler(deps: DmDeps): OutboxHandler {
	return async ({ item }) => {
		const messageId = String(item.payload.messageId);
		const copy = await copyIdOf(deps.database, messageId, "topic");
		const [message] = await deps.database.db
			.select()
			.from(messages)
			.where(eq(messages.id, messageId));
		if (copy === undefined || !message) return;
		const view = await loadCardView(deps.database, item.customerId);
		if (view?.cardMessageId === copy) {
			// The message is under the card: the card is rendered again above the new text.
			try {
				await editCardMessage(deps, copy, renderCard(view, deps.texts, deps.timeZone));
			} catch (error) {
				if (isNotModified(error) || classifyFailure(error).kind === "permanent") return;
				throw error;
			}
			return;
		}
		const prefixed = await customerHasWeb(deps.database, item.customerId);
		const text = `${prefixed ? deps.texts.get("telegramPrefix") : ""}${message.text}`;
		const target = { chat_id: deps.groupId, message_id: copy };
		try {
			if (message.mediaId) await deps.api.editMessageCaption({ ...target, caption: text });
			else await deps.api.editMessageText({ ...target, text });
		} catch (error) {
			if (isNotModified(error) || classifyFailure(error).kind === "permanent") return;
			throw error;
		}
	};
}
