/**
 * Outbox handler `topic_message`: a customer's stored message appears in their topic. Web
 * messages are sent as `[WEB] <text>` (files as photo or document with `[WEB] 📎 <name>`);
 * Telegram messages are copied from the private chat with `copyMessage`, text getting `[TG] `
 * when the customer also uses the web chat. Replies are threaded to the copies they answer.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import { mediaById } from "../core/media.ts";
import { customers, media, messages, outbox } from "../db/schema.ts";
import { copyIdOf, customerHasWeb, replyTo, shiftEntities } from "./copies.ts";
import type { OutboxHandler } from "./outbox-worker.ts";
import { sendToTopic, type TopicDeps } from "./topics.ts";

type MessageRow = typeof messages.$inferSelect;

const MERGE_MAX = 20;
/** Telegram's limit for a message text. */
const MERGED_TEXT_MAX = 4096;

const isPlainWebText = (message: MessageRow) =>
	message.channel === "web" && !message.mediaId && !message.replyToId && message.text.length > 0;

export function topicMessageHandler(deps: TopicDeps): OutboxHandler {
	async function sendWeb(message: MessageRow, topicId: number, reply: number | undefined) {
		const prefix = deps.texts.get("webPrefix");
		const target = { chat_id: deps.groupId, message_thread_id: topicId, ...replyTo(reply) };
		const attachment = message.mediaId ? await mediaById(deps.database, message.mediaId) : null;
		if (!attachment) return deps.api.sendMessage({ ...target, text: `${prefix}${message.text}` });
		const caption = `${prefix}📎 ${attachment.fileName ?? "file"}${message.text ? `\n${message.text}` : ""}`;
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
			return deps.api.sendMessage({
				...target,
				text: `${prefix}${message.text}`,
				entities: shiftEntities(message.entities, prefix.length),
			});
		const caption =
			prefixed && message.mediaId && message.text ? { caption: `${prefix}${message.text}` } : {};
		return deps.api.copyMessage({
			...target,
			from_chat_id: chatId,
			message_id: original,
			...caption,
		});
	}

	/**
	 * When the group's budget is the bottleneck, the customer's next queued plain-text web
	 * messages ride along with this one: one Telegram message instead of several, order kept.
	 */
	async function followers(customerId: string, afterId: number, first: MessageRow) {
		if (!deps.budget?.groupTight() || !isPlainWebText(first)) return [];
		const queued = await deps.database.db
			.select({ itemId: outbox.id, kind: outbox.kind, payload: outbox.payload })
			.from(outbox)
			.where(
				and(eq(outbox.customerId, customerId), eq(outbox.state, "pending"), gt(outbox.id, afterId)),
			)
			.orderBy(asc(outbox.id))
			.limit(MERGE_MAX);
		const merged: { itemId: number; message: MessageRow }[] = [];
		let length = first.text.length;
		for (const next of queued) {
			if (next.kind !== "topic_message") break;
			const id = String((next.payload as { messageId?: unknown }).messageId);
			const [message] = await deps.database.db.select().from(messages).where(eq(messages.id, id));
			if (!message || !isPlainWebText(message)) break;
			length += message.text.length + deps.texts.get("webPrefix").length + 1;
			if (length > MERGED_TEXT_MAX) break;
			merged.push({ itemId: Number(next.itemId), message });
		}
		return merged;
	}

	return async ({ item, finish }) => {
		const messageId = String(item.payload.messageId);
		const [row] = await deps.database.db
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
		const riders = await followers(item.customerId, item.id, message);
		const prefix = deps.texts.get("webPrefix");
		const sent = await sendToTopic(
			deps,
			item.customerId,
			(topicId) =>
				riders.length > 0
					? deps.api.sendMessage({
							chat_id: deps.groupId,
							message_thread_id: topicId,
							text: [message, ...riders.map((r) => r.message)]
								.map((m) => `${prefix}${m.text}`)
								.join("\n"),
						})
					: message.channel === "telegram" && chatId != null
						? copyTelegram(message, topicId, reply, chatId)
						: sendWeb(message, topicId, reply),
			{ topicId: knownTopic, cardMessageId },
		);
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
