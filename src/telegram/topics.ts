/**
 * The customer's forum topic and its card. Both are created on first need by the outbox worker,
 * which handles one item per customer at a time, so two near-simultaneous first messages still
 * make one topic. The card is the topic's first message: with the customer's first message under
 * it when that fits (one write), else alone. It is pinned per `card.pin`. A topic Telegram says
 * is gone is made again, with a new card and a notice.
 */
import { and, eq, sql } from "drizzle-orm";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Database, Db } from "../db/client.ts";
import { retryingConflicts } from "../db/errors.ts";
import { customers } from "../db/schema.ts";
import type { Texts } from "../i18n/texts.ts";
import { enqueueAll } from "../outbox/enqueue.ts";
import type { FloodBudget, GroupKey } from "../outbox/flood-budget.ts";
import { type BotApi, classifyFailure, isTopicGone } from "./bot-api.ts";
import { loadCardView, type RenderedCard, renderCard } from "./card.ts";

/** Telegram limits topic names to 128 characters. */
export const TOPIC_NAME_MAX = 128;

export function fitTopicName(name: string): string {
	const chars = Array.from(name.trim() || "Customer");
	return chars.length <= TOPIC_NAME_MAX
		? chars.join("")
		: `${chars.slice(0, TOPIC_NAME_MAX - 1).join("")}…`;
}

/** `card.pin`: when the card is pinned. */
export type CardPin = "when-idle" | "always" | "never";

export interface TopicDeps {
	database: Database;
	api: BotApi;
	groupId: number;
	/** The desk's texts (operators' language). */
	texts: Texts;
	timeZone: string;
	/** Wakes the worker when a delivery files what it owes next (a card's pin). */
	core: CoreDeps;
	pin: CardPin;
	/** The flood budgets, when metered: lets handlers save calls when the group is the bottleneck. */
	budget?: FloodBudget;
	/** The budget of `groupId` in `budget`. */
	budgetKey?: GroupKey;
	/** Every support group, the default first (links to a topic in another group). */
	groupIds?: () => readonly number[];
}

/** `https://t.me/c/<group id without -100>/<topic id>`: opens the topic for any member. */
export function topicLink(groupId: number, topicId: number): string {
	return `https://t.me/c/${String(groupId).replace(/^-100/, "")}/${topicId}`;
}

/** Records the card's message as the customer's card (in their current topic only). */
function recordCard(db: Db, customerId: string, topicId: number, cardMessageId: number) {
	return db
		.update(customers)
		.set({ cardMessageId })
		.where(and(eq(customers.id, customerId), eq(customers.topicId, topicId)));
}

/**
 * Pins a recorded card as `card.pin` says: "always" at once; "when-idle" at once too when nothing
 * else waits for the group (`groupIdle`), else through a pin item that waits for an idle group;
 * "never" not at all. A pin Telegram refuses now is left to a pin item, so the card's record is
 * never undone by it.
 */
export async function pinCard(
	deps: TopicDeps,
	customerId: string,
	cardMessageId: number,
	groupIdle: boolean,
	/** Tells the worker a pin was filed (the delivery's `filedForIdle`). */
	filed: () => void = () => deps.core.wakeOutbox(),
) {
	if (deps.pin === "never") return;
	const now = deps.pin === "always" || groupIdle;
	if (now)
		try {
			await deps.api.pinChatMessage({
				chat_id: deps.groupId,
				message_id: cardMessageId,
				disable_notification: true,
			});
			return;
		} catch {
			// left to a pin item, below
		}
	// One statement of its own. A finish batch may lock the same rows in another order at this
	// moment: a deadlock is tried again rather than failing a delivery that was already made (it
	// would be sent again).
	const owed = [{ customerId, item: { kind: "card_pin", cardMessageId } as const }];
	await retryingConflicts(() => enqueueAll(deps.database, owed), 5);
	filed();
}

/** Posts the card alone as the topic's first message, and pins it per `card.pin`. */
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
	await recordCard(deps.database.db, customerId, topicId, sent.message_id);
	await pinCard(deps, customerId, sent.message_id, false);
}

/** The customer's topic, created when there is none, and its card message (null: none yet). */
async function openTopic(deps: TopicDeps, customerId: string) {
	const [customer] = await deps.database.db
		.select({
			topicId: customers.topicId,
			cardMessageId: customers.cardMessageId,
			displayName: customers.displayName,
		})
		.from(customers)
		.where(eq(customers.id, customerId));
	if (!customer) throw new Error(`customer ${customerId} not found`);
	if (customer.topicId != null)
		return { topicId: customer.topicId, cardMessageId: customer.cardMessageId };
	const topic = await deps.api.createForumTopic({
		chat_id: deps.groupId,
		name: fitTopicName(customer.displayName),
	});
	const topicId = topic.message_thread_id;
	await deps.database.db
		.update(customers)
		.set({ topicId, cardMessageId: null })
		.where(and(eq(customers.id, customerId), sql`${customers.topicId} is null`));
	return { topicId, cardMessageId: null };
}

/** Returns the customer's topic id, creating the topic (and its card) when there is none. */
export async function ensureTopic(deps: TopicDeps, customerId: string): Promise<number> {
	const { topicId, cardMessageId } = await openTopic(deps, customerId);
	// A card that failed to post last time is posted now, before anything else goes in.
	if (cardMessageId == null) await postCard(deps, customerId, topicId);
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
 * Sends the message as one with the card on top (the topic has no card yet): returns what was
 * sent, or null when the message cannot go under the card (too long, a kind without a caption).
 * The caller records the sent message as the card.
 */
export type SendUnderCard<T> = (topicId: number, card: RenderedCard) => Promise<T | null>;

/**
 * Runs `send` against the customer's topic, creating it when missing. A topic without its card
 * gets it first: with this message under it when `underCard` can send them as one, else alone.
 * When Telegram says the topic is gone (an operator deleted or closed it), a new topic is made
 * with a new card and a notice that history continues there, and `send` runs once more: nothing
 * is lost.
 */
export async function sendToTopic<T>(
	deps: TopicDeps,
	customerId: string,
	send: (topicId: number) => Promise<T>,
	/** The customer's topic and card as the caller already read them: saves a lookup. */
	known?: { topicId: number | null; cardMessageId: number | null },
	underCard?: SendUnderCard<T>,
): Promise<T> {
	const place =
		known?.topicId != null && known.cardMessageId != null
			? { topicId: known.topicId, cardMessageId: known.cardMessageId }
			: await openTopic(deps, customerId);
	try {
		if (place.cardMessageId == null) {
			const together = underCard
				? await sendUnderCard(deps, customerId, place.topicId, underCard)
				: null;
			if (together !== null) return together;
			await postCard(deps, customerId, place.topicId);
		}
		return await send(place.topicId);
	} catch (error) {
		if (!isTopicGone(classifyFailure(error))) throw error;
		await forgetTopic(deps, customerId, place.topicId);
		const fresh = await ensureTopic(deps, customerId);
		await deps.api.sendMessage({
			chat_id: deps.groupId,
			message_thread_id: fresh,
			text: deps.texts.get("noticeTopicRecreated"),
		});
		return send(fresh);
	}
}

async function sendUnderCard<T>(
	deps: TopicDeps,
	customerId: string,
	topicId: number,
	underCard: SendUnderCard<T>,
): Promise<T | null> {
	const view = await loadCardView(deps.database, customerId);
	if (!view) return null;
	return underCard(topicId, renderCard(view, deps.texts, deps.timeZone));
}
