/**
 * The customer's forum topic and its pinned card. Both are created on first need by the outbox
 * worker, which handles one item per customer at a time, so two near-simultaneous first messages
 * still make one topic. A topic Telegram says is gone is made again, with a new card and a notice.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers } from "../db/schema.ts";
import type { Texts } from "../i18n/texts.ts";
import type { FloodBudget } from "../outbox/flood-budget.ts";
import { type BotApi, classifyFailure, isTopicGone } from "./bot-api.ts";
import { loadCardView, renderCard } from "./card.ts";

/** Telegram limits topic names to 128 characters. */
export const TOPIC_NAME_MAX = 128;

export function fitTopicName(name: string): string {
	const chars = Array.from(name.trim() || "Customer");
	return chars.length <= TOPIC_NAME_MAX
		? chars.join("")
		: `${chars.slice(0, TOPIC_NAME_MAX - 1).join("")}…`;
}

export interface TopicDeps {
	database: Database;
	api: BotApi;
	groupId: number;
	/** The desk's texts (operators' language). */
	texts: Texts;
	timeZone: string;
	/** The flood budgets, when metered: lets handlers save calls when the group is the bottleneck. */
	budget?: FloodBudget;
}

/** `https://t.me/c/<group id without -100>/<topic id>`: opens the topic for any member. */
export function topicLink(groupId: number, topicId: number): string {
	return `https://t.me/c/${String(groupId).replace(/^-100/, "")}/${topicId}`;
}

/** Posts and pins the card as the topic's first message. */
async function postCard(deps: TopicDeps, customerId: string, topicId: number) {
	const view = await loadCardView(deps.database, customerId);
	if (!view) return;
	const card = renderCard(view, deps.texts, deps.timeZone);
	const sent = await deps.api.sendMessage({
		chat_id: deps.groupId,
		message_thread_id: topicId,
		text: card.text,
		reply_markup: card.reply_markup,
	});
	await deps.database.db
		.update(customers)
		.set({ cardMessageId: sent.message_id })
		.where(and(eq(customers.id, customerId), eq(customers.topicId, topicId)));
	await deps.api.pinChatMessage({
		chat_id: deps.groupId,
		message_id: sent.message_id,
		disable_notification: true,
	});
}

/** Returns the customer's topic id, creating the topic (and its card) when there is none. */
export async function ensureTopic(deps: TopicDeps, customerId: string): Promise<number> {
	const [customer] = await deps.database.db
		.select({
			topicId: customers.topicId,
			cardMessageId: customers.cardMessageId,
			displayName: customers.displayName,
		})
		.from(customers)
		.where(eq(customers.id, customerId));
	if (!customer) throw new Error(`customer ${customerId} not found`);
	let topicId = customer.topicId;
	if (topicId == null) {
		const topic = await deps.api.createForumTopic({
			chat_id: deps.groupId,
			name: fitTopicName(customer.displayName),
		});
		topicId = topic.message_thread_id;
		await deps.database.db
			.update(customers)
			.set({ topicId, cardMessageId: null })
			.where(and(eq(customers.id, customerId), sql`${customers.topicId} is null`));
	}
	// A card that failed to post last time is posted now, before anything else goes in.
	if (customer.cardMessageId == null) await postCard(deps, customerId, topicId);
	return topicId;
}

/** Forgets a topic Telegram says is gone, so the next delivery creates a new one. */
export async function forgetTopic(deps: TopicDeps, customerId: string, topicId: number) {
	await deps.database.db
		.update(customers)
		.set({ topicId: null, cardMessageId: null })
		.where(and(eq(customers.id, customerId), eq(customers.topicId, topicId)));
}

/**
 * Runs `send` against the customer's topic, creating it when missing. When Telegram says the
 * topic is gone (an operator deleted or closed it), a new topic is made with a new card and a
 * notice that history continues there, and `send` runs once more: nothing is lost.
 */
export async function sendToTopic<T>(
	deps: TopicDeps,
	customerId: string,
	send: (topicId: number) => Promise<T>,
	/** The customer's topic and card as the caller already read them: saves a lookup. */
	known?: { topicId: number | null; cardMessageId: number | null },
): Promise<T> {
	const topicId =
		known?.topicId != null && known.cardMessageId != null
			? known.topicId
			: await ensureTopic(deps, customerId);
	try {
		return await send(topicId);
	} catch (error) {
		if (!isTopicGone(classifyFailure(error))) throw error;
		await forgetTopic(deps, customerId, topicId);
		const fresh = await ensureTopic(deps, customerId);
		await deps.api.sendMessage({
			chat_id: deps.groupId,
			message_thread_id: fresh,
			text: deps.texts.get("noticeTopicRecreated"),
		});
		return send(fresh);
	}
}
