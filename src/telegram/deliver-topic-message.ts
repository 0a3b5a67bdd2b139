/**
 * Outbox handler `topic_message`: a customer's stored message appears in their topic as
 * `[WEB] <text>`, and its copy is recorded so replies and edits can find it later.
 */
import { eq } from "drizzle-orm";
import { messageCopies, messages } from "../db/schema.ts";
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
		const text = `${prefix}${message.text}`;
		const sent = await sendToTopic(deps, item.customerId, (topicId) =>
			deps.api.sendMessage({ chat_id: deps.groupId, message_thread_id: topicId, text }),
		);
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
