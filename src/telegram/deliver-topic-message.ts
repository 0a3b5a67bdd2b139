/**
 * Outbox handler `topic_message`: a customer's stored message appears in their topic as
 * `[WEB] <text>`, and its copy is recorded so replies and edits can find it later.
 */
import { eq } from "drizzle-orm";
import { messageCopies, messages } from "../db/schema.ts";
import type { Texts } from "../i18n/texts.ts";
import { classifyFailure, isTopicGone } from "./bot-api.ts";
import type { OutboxHandler } from "./outbox-worker.ts";
import { ensureTopic, forgetTopic, type TopicDeps } from "./topics.ts";

export function topicMessageHandler(deps: TopicDeps & { texts: Texts }): OutboxHandler {
	return async ({ item, complete }) => {
		const messageId = String(item.payload.messageId);
		const [message] = await deps.database.db
			.select()
			.from(messages)
			.where(eq(messages.id, messageId));
		if (!message) return; // deleted with its customer: nothing left to deliver
		const prefix = message.channel === "web" ? deps.texts.get("webPrefix") : "";
		const send = async () => {
			const topicId = await ensureTopic(deps, item.customerId);
			try {
				return await deps.api.sendMessage({
					chat_id: deps.groupId,
					message_thread_id: topicId,
					text: `${prefix}${message.text}`,
				});
			} catch (error) {
				// An operator deleted the topic: a new one is made and the message goes there.
				if (isTopicGone(classifyFailure(error))) {
					await forgetTopic(deps, item.customerId, topicId);
					const freshTopic = await ensureTopic(deps, item.customerId);
					return deps.api.sendMessage({
						chat_id: deps.groupId,
						message_thread_id: freshTopic,
						text: `${prefix}${message.text}`,
					});
				}
				throw error;
			}
		};
		const sent = await send();
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
