/**
 * Outbox handler `topic_message`: a customer's stored message appears in their topic as
 * `[WEB] <text>`, and its copy is recorded so replies and edits can find it later.
 */
import { eq } from "drizzle-orm";
import { mediaById } from "../core/media.ts";
import { media, messageCopies, messages } from "../db/schema.ts";
import type { Texts } from "../i18n/texts.ts";
import type { OutboxHandler } from "./outbox-worker.ts";
import { sendToTopic, type TopicDeps } from "./topics.ts";

export function topicMessageHandler(deps: TopicDeps & { texts: Texts }): OutboxHandler {
	return async ({ item, complete }) => {
		const messageId = String(item.payload.messageId);
		const [message] = await deps.database.db
			.select()
			.from(messages)
			.where(eq(messages.id, messageId));
		if (!message) return; // deleted with its customer: nothing left to deliver
		const prefix = message.channel === "web" ? deps.texts.get("webPrefix") : "";
		const attachment = message.mediaId ? await mediaById(deps.database, message.mediaId) : null;
		const sent = await sendToTopic(deps, item.customerId, (topicId) => {
			const target = { chat_id: deps.groupId, message_thread_id: topicId };
			if (!attachment) return deps.api.sendMessage({ ...target, text: `${prefix}${message.text}` });
			const caption = `${prefix}📎 ${attachment.fileName ?? "file"}${message.text ? `\n${message.text}` : ""}`;
			// Once Telegram has the file, resending (a recreated topic) needs only its id.
			const file =
				attachment.telegramFileId ??
				new File([attachment.bytes ?? new Uint8Array()], attachment.fileName ?? "file", {
					type: attachment.mimeType,
				});
			return attachment.kind === "image"
				? deps.api.sendPhoto({ ...target, photo: file, caption })
				: deps.api.sendDocument({ ...target, document: file, caption });
		});
		const telegramFileId = sent.photo?.at(-1)?.file_id ?? sent.document?.file_id;
		if (attachment && telegramFileId && !attachment.telegramFileId)
			await deps.database.db
				.update(media)
				.set({ telegramFileId })
				.where(eq(media.id, attachment.id));
		await deps.database.db.transaction(async (tx) => {
			await tx
				.insert(messageCopies)
				.values({
					messageId,
					kind: "topic",
					chatId: deps.groupId,
					telegramMessageId: sent.message_id,
					state: "delivered",
				})
				.onConflictDoUpdate({
					target: [messageCopies.messageId, messageCopies.kind],
					set: { telegramMessageId: sent.message_id, state: "delivered", error: null },
				});
			await complete(tx);
		});
	};
}
