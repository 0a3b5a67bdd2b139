/**
 * Outbox handlers `card`, `card_pin` and `topic_rename`: the card and the topic's name follow the
 * customer's current state. Both render at delivery, so queued changes end in one current card
 * (the card items queued behind one, up to the customer's next message, are done by its edit),
 * and "not modified" answers count as success. A pin waits for an idle group.
 */
import { and, asc, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers, outbox } from "../db/schema.ts";
import type { ClaimedItem, OutboxHandler } from "../outbox/delivery.ts";
import { classifyFailure } from "./bot-api.ts";
import { loadCardView, renderCard } from "./card.ts";
import { editCardMessage } from "./card-message.ts";
import { ensureTopic, fitTopicName, type TopicDeps } from "./topics.ts";

const notModified = (error: unknown) => {
	const failure = classifyFailure(error);
	return failure.kind === "permanent" && /not modified/i.test(failure.description);
};
const messageGone = (error: unknown) => {
	const failure = classifyFailure(error);
	return (
		failure.kind === "permanent" &&
		/message to (edit|pin) not found|MESSAGE_ID_INVALID/i.test(failure.description)
	);
};

/** How far behind an item its handler looks for card edits and pins it can stand for. */
const COALESCE_MAX = 50;

/** The customer's items queued after this one, oldest first. */
function queuedAfter(database: Database, item: ClaimedItem, limit: number) {
	return database.db
		.select({
			id: outbox.id,
			kind: outbox.kind,
			priority: outbox.priority,
			payload: outbox.payload,
		})
		.from(outbox)
		.where(
			and(
				eq(outbox.customerId, item.customerId),
				eq(outbox.state, "pending"),
				gt(outbox.id, item.id),
			),
		)
		.orderBy(asc(outbox.id))
		.limit(limit);
}

export function cardHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item, alone, finish }) => {
		// The card edits queued behind this one, up to the next message (the customer's, or an
		// operator's to them), are done by this edit: it renders the state read after they were
		// filed, so it shows theirs too. One queued after a message stays, so no edit overtakes it.
		const behind = alone ? [] : await queuedAfter(deps.database, item, COALESCE_MAX);
		const stop = behind.findIndex((next) => next.priority === 0);
		const coalesced = (stop < 0 ? behind : behind.slice(0, stop))
			.filter((next) => next.kind === "card")
			.map((next) => next.id);
		const done = () => finish([], coalesced);
		const view = await loadCardView(deps.database, item.customerId);
		// No topic yet: the card is posted, current, when the topic is created.
		if (view?.topicId == null) return done();
		if (view.cardMessageId == null) {
			await ensureTopic(deps, item.customerId);
			return done();
		}
		const card = renderCard(view, deps.texts, deps.timeZone);
		try {
			await editCardMessage(deps, view.cardMessageId, card);
		} catch (error) {
			if (notModified(error)) return done();
			if (!messageGone(error)) throw error;
			// The card was deleted: post a new one (ensureTopic posts a missing card).
			await deps.database.db
				.update(customers)
				.set({ cardMessageId: null })
				.where(eq(customers.id, item.customerId));
			await ensureTopic(deps, item.customerId);
		}
		return done();
	};
}

/**
 * `card_pin`: pins the card. It is served only when the customer has nothing more urgent queued
 * and the group is idle (the claim's rules), so it delays nobody. Only the customer's current
 * card is pinned (a recreated topic has a new one), once for all the pins queued in a row.
 */
export function cardPinHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item, finish }) => {
		const cardMessageId = Number(item.payload.cardMessageId);
		const behind = await queuedAfter(deps.database, item, COALESCE_MAX);
		const pins = behind.filter((next) => next.kind === "card_pin");
		const cards = new Set([
			cardMessageId,
			...pins.map((next) => Number((next.payload as { cardMessageId?: unknown }).cardMessageId)),
		]);
		const view = await loadCardView(deps.database, item.customerId);
		if (view?.cardMessageId != null && cards.has(view.cardMessageId))
			try {
				await deps.api.pinChatMessage({
					chat_id: deps.groupId,
					message_id: view.cardMessageId,
					disable_notification: true,
				});
			} catch (error) {
				if (!messageGone(error)) throw error;
			}
		await finish(
			[],
			pins.map((next) => next.id),
		);
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
