/**
 * Outbox handler `topic_message`: a customer's stored message appears in their topic. Web
 * messages are sent as `[WEB] <text>` (files as photo or document with `[WEB] 📎 <name>`);
 * Telegram messages are copied from the private chat with `copyMessage`, text getting `[TG] `
 * when the customer also uses the web chat. Replies are threaded to the copies they answer. The
 * first message of a new topic goes under the card, as one message (card-message.ts).
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { FormattableString, TelegramMessage, TelegramMessageEntity } from "gramio";
import { mediaById } from "../core/media.ts";
import { customers, media, messages, outbox } from "../db/schema.ts";
import type { OutboxHandler } from "../outbox/delivery.ts";
import type { RenderedCard } from "./card.ts";
import { fileCaption, fitsUnderCard, limitOf, questionOf, underCard } from "./card-message.ts";
import {
	CAPTION_MAX,
	copyIdOf,
	customerHasWeb,
	entitiesIn,
	replyTo,
	shiftEntities,
	splitText,
	TEXT_MAX,
} from "./copies.ts";
import { pinCard, sendToTopic, type TopicDeps } from "./topics.ts";

type MessageRow = typeof messages.$inferSelect;
type MediaRow = typeof media.$inferSelect;

const MERGE_MAX = 20;

const isPlainWebText = (message: MessageRow) =>
	message.channel === "web" && !message.mediaId && !message.replyToId && message.text.length > 0;

type Target = { chat_id: number; message_thread_id: number } & ReturnType<typeof replyTo>;

export function topicMessageHandler(deps: TopicDeps): OutboxHandler {
	/**
	 * A text as one message or, past Telegram's limit (a long Telegram text behind `[TG] `), as
	 * several in order, entities following their piece; the first one stands for the message
	 * (replies and edits address it).
	 */
	async function sendLong(target: Target, text: string, entities?: TelegramMessageEntity[]) {
		const { reply_parameters: _reply, ...plain } = target;
		let first: TelegramMessage | undefined;
		for (const piece of splitText(text, TEXT_MAX)) {
			const pieceEntities = entitiesIn(entities, piece.offset, piece.text.length);
			const sent = await deps.api.sendMessage({
				...(first ? plain : target),
				text: piece.text,
				...(pieceEntities ? { entities: pieceEntities } : {}),
			});
			first ??= sent;
		}
		return first as TelegramMessage;
	}

	/**
	 * A caption within Telegram's 1024, and what did not fit, sent after the file as text. An
	 * upload is multipart, which carries each line break as CRLF: they count twice.
	 */
	function fitCaption(caption: string) {
		const breaks = caption.slice(0, CAPTION_MAX).split("\n").length - 1;
		const [head, next] = splitText(caption, CAPTION_MAX - breaks);
		return { caption: head?.text ?? "", rest: next ? caption.slice(next.offset) : "" };
	}

	/** A web customer's file into the topic as a photo or a document, with this caption. */
	async function upload(
		attachment: MediaRow,
		target: Target & { reply_markup?: RenderedCard["reply_markup"] },
		caption: string | FormattableString,
	) {
		// Once Telegram has the file, resending (a recreated topic) needs only its id.
		const file =
			attachment.telegramFileId ??
			new File([attachment.bytes ?? new Uint8Array()], attachment.fileName ?? "file", {
				type: attachment.mimeType,
			});
		const sent =
			attachment.kind === "image"
				? await deps.api.sendPhoto({ ...target, photo: file, caption })
				: await deps.api.sendDocument({ ...target, document: file, caption });
		const telegramFileId = sent.photo?.at(-1)?.file_id ?? sent.document?.file_id;
		if (telegramFileId && !attachment.telegramFileId)
			await deps.database.db
				.update(media)
				.set({ telegramFileId })
				.where(eq(media.id, attachment.id));
		return sent;
	}

	async function sendWeb(message: MessageRow, topicId: number, reply: number | undefined) {
		const prefix = deps.texts.get("webPrefix");
		const target = { chat_id: deps.groupId, message_thread_id: topicId, ...replyTo(reply) };
		const attachment = message.mediaId ? await mediaById(deps.database, message.mediaId) : null;
		if (!attachment) return sendLong(target, `${prefix}${message.text}`);
		const { caption, rest } = fitCaption(fileCaption(prefix, attachment, message.text));
		const sent = await upload(attachment, target, caption);
		if (rest) await sendLong({ chat_id: deps.groupId, message_thread_id: topicId }, rest);
		return sent;
	}

	/**
	 * The customer's first message as one message with the card on top (a new topic's only write
	 * after its creation): a text under the card, or the medium with the card over its caption
	 * and the card's buttons. Null when it does not fit (4,096 / 1,024) or cannot carry a caption.
	 */
	async function sendUnderCard(
		message: MessageRow,
		topicId: number,
		card: RenderedCard,
		chatId: number | null,
	): Promise<TelegramMessage | null> {
		const question = await questionOf(deps, message);
		if (!fitsUnderCard(message, question)) return null;
		const target = {
			chat_id: deps.groupId,
			message_thread_id: topicId,
			reply_markup: card.reply_markup,
		};
		const uploading = question.attachment != null && !question.attachment.telegramFileId;
		const body = underCard(card, question, limitOf(question), uploading);
		if (!body) return null;
		if (question.kind === "text") return deps.api.sendMessage({ ...target, text: body });
		if (message.channel === "web" && question.attachment)
			return upload(question.attachment, target, body);
		const original = await copyIdOf(deps.database, message.id, "dm");
		if (original === undefined || chatId == null) return null;
		const copied = await deps.api.copyMessage({
			...target,
			from_chat_id: chatId,
			message_id: original,
			caption: body,
		});
		return copied as TelegramMessage;
	}

	async function copyTelegram(
		message: MessageRow,
		topicId: number,
		reply: number | undefined,
		chatId: number,
	) {
		const original = await copyIdOf(deps.database, message.id, "dm");
		if (original === undefined)
			throw new Error(`message ${message.id} has no private-chat original`);
		const target = { chat_id: deps.groupId, message_thread_id: topicId, ...replyTo(reply) };
		const prefixed = await customerHasWeb(deps.database, message.customerId);
		const prefix = deps.texts.get("telegramPrefix");
		// Text is re-sent rather than copied so it can carry the prefix (entities shifted to match).
		if (prefixed && !message.mediaId && message.text)
			return sendLong(
				target,
				`${prefix}${message.text}`,
				shiftEntities(message.entities, prefix.length),
			);
		const fitted =
			prefixed && message.mediaId && message.text ? fitCaption(`${prefix}${message.text}`) : null;
		const copied = await deps.api.copyMessage({
			...target,
			from_chat_id: chatId,
			message_id: original,
			...(fitted ? { caption: fitted.caption } : {}),
		});
		if (fitted?.rest)
			await sendLong({ chat_id: deps.groupId, message_thread_id: topicId }, fitted.rest);
		return copied;
	}

	/**
	 * When the group's budget is the bottleneck, the customer's next queued plain-text web
	 * messages ride along with this one: one Telegram message instead of several, order kept.
	 */
	async function followers(customerId: string, afterId: number, first: MessageRow) {
		if (!deps.budget?.groupTight(deps.budgetKey) || !isPlainWebText(first)) return [];
		const queued = await deps.database.db
			.select({ itemId: outbox.id, kind: outbox.kind, payload: outbox.payload })
			.from(outbox)
			.where(
				and(eq(outbox.customerId, customerId), eq(outbox.state, "pending"), gt(outbox.id, afterId)),
			)
			.orderBy(asc(outbox.id))
			.limit(MERGE_MAX);
		const merged: { itemId: number; message: MessageRow }[] = [];
		// The merged text is every piece with its prefix, one line break between them.
		let length = deps.texts.get("webPrefix").length + first.text.length;
		for (const next of queued) {
			if (next.kind !== "topic_message") break;
			const id = String((next.payload as { messageId?: unknown }).messageId);
			const [message] = await deps.database.db.select().from(messages).where(eq(messages.id, id));
			if (!message || !isPlainWebText(message)) break;
			length += message.text.length + deps.texts.get("webPrefix").length + 1;
			if (length > TEXT_MAX) break;
			merged.push({ itemId: Number(next.itemId), message });
		}
		return merged;
	}

	return async ({ item, groupIdle, filedForIdle, finish }) => {
		const messageId = String(item.payload.messageId);
		const [row] = item.prefetched
			? item.prefetched.message
				? [
						{
							message: item.prefetched.message,
							chatId: item.prefetched.chatId ?? null,
							topicId: item.prefetched.topicId ?? null,
							cardMessageId: item.prefetched.cardMessageId ?? null,
						},
					]
				: []
			: await deps.database.db
					.select({
						message: messages,
						chatId: customers.telegramUserId,
						topicId: customers.topicId,
						cardMessageId: customers.cardMessageId,
					})
					.from(messages)
					.innerJoin(customers, eq(customers.id, messages.customerId))
					.where(eq(messages.id, messageId));
		if (!row) return; // deleted with its customer: nothing left to deliver
		const { message, chatId, topicId: knownTopic, cardMessageId } = row;
		const reply = await copyIdOf(deps.database, message.replyToId, "topic");
		// A first message goes under the card alone: later ones may ride along again.
		const riders = cardMessageId == null ? [] : await followers(item.customerId, item.id, message);
		const prefix = deps.texts.get("webPrefix");
		let carded: { topicId: number; cardMessageId: number } | undefined;
		const sent = await sendToTopic(
			deps,
			item.customerId,
			(topicId) =>
				riders.length > 0
					? sendLong(
							{ chat_id: deps.groupId, message_thread_id: topicId },
							[message, ...riders.map((r) => r.message)]
								.map((m) => `${prefix}${m.text}`)
								.join("\n"),
						)
					: message.channel === "telegram" && chatId != null
						? copyTelegram(message, topicId, reply, chatId)
						: sendWeb(message, topicId, reply),
			{ topicId: knownTopic, cardMessageId },
			async (topicId, card) => {
				const together = await sendUnderCard(message, topicId, card, chatId);
				if (together) carded = { topicId, cardMessageId: together.message_id };
				return together;
			},
		);
		if (carded) {
			// The message under the card is both the card and the message's copy: the finish
			// records both. "always" (or an idle group) pins it after.
			const copy = { messageId: message.id, kind: "topic" as const, chatId: deps.groupId };
			await finish([{ ...copy, telegramMessageId: carded.cardMessageId }], [], {
				customerId: item.customerId,
				...carded,
			});
			await pinCard(deps, item.customerId, carded.cardMessageId, groupIdle(), filedForIdle);
			return;
		}
		await finish(
			[message, ...riders.map((r) => r.message)].map((m) => ({
				messageId: m.id,
				kind: "topic" as const,
				chatId: deps.groupId,
				telegramMessageId: sent.message_id,
			})),
			riders.map((r) => r.itemId),
		);
	};
}
