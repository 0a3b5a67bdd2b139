/**
 * Outbox handlers `card` and `topic_rename`: the pinned card and the topic's name follow the
 * customer's current state. Both render at delivery, so several queued changes end in one
 * current card, and "not modified" answers count as success.
 */
import { eq } from "drizzle-orm";
import { customers } from "../db/schema.ts";
import type { OutboxHandler } from "../outbox/delivery.ts";
import { classifyFailure } from "./bot-api.ts";
import { loadCardView, renderCard } from "./card.ts";
import { ensureTopic, fitTopicName, type TopicDeps } from "./topics.ts";

const notModified = (error: unknown) => {
	const failure = classifyFailure(error);
	return failure.kind === "permanent" && /not modified/i.test(failure.description);
};
const messageGone = (error: unknown) => {
	const failure = classifyFailure(error);
	return (
		failure.kind === "permanent" &&
		/message to edit not found|MESSAGE_ID_INVALID/i.test(failure.description)
	);
};

export function cardHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item }) => {
		const view = await loadCardView(deps.database, item.customerId);
		// No topic yet: the card is posted, current, when the topic is created.
		if (view?.topicId == null) return;
		if (view.cardMessageId == null) {
			await ensureTopic(deps, item.customerId);
			return;
		}
		const card = renderCard(view, deps.texts, deps.timeZone);
		try {
			await deps.api.editMessageText({
				chat_id: deps.groupId,
				message_id: view.cardMessageId,
				text: card.text,
				reply_markup: card.reply_markup,
			});
		} catch (error) {
			if (notModified(error)) return;
			if (!messageGone(error)) throw error;
			// The card was deleted: post a new one (ensureTopic posts a missing card).
			await deps.database.db
				.update(customers)
				.set({ cardMessageId: null })
				.where(eq(customers.id, item.customerId));
			await ensureTopic(deps, item.customerId);
		}
	};
}

export function topicRenameHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item }) => {
		const row = await loadCardView(deps.database, item.customerId);
		if (row?.topicId == null) return; // created with the current name later
		try {
			await deps.api.editForumTopic({
				chat_id: deps.groupId,
				message_thread_id: row.topicId,
				name: fitTopicName(row.displayName),
			});
		} catch (error) {
			if (notModified(error) || /TOPIC_NOT_MODIFIED/i.test(String(error))) return;
			throw error;
		}
	};
}
