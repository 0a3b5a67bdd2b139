/**
 * The customer's forum topic: created on first need, by the outbox worker, which handles one
 * item per customer at a time, so two near-simultaneous first messages still make one topic.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers } from "../db/schema.ts";
import { type BotApi, classifyFailure, isTopicGone } from "./bot-api.ts";

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
}

/** Returns the customer's topic id, creating the topic when there is none. */
export async function ensureTopic(deps: TopicDeps, customerId: string): Promise<number> {
	const [customer] = await deps.database.db
		.select({ topicId: customers.topicId, displayName: customers.displayName })
		.from(customers)
		.where(eq(customers.id, customerId));
	if (!customer) throw new Error(`customer ${customerId} not found`);
	if (customer.topicId != null) return customer.topicId;
	const topic = await deps.api.createForumTopic({
		chat_id: deps.groupId,
		name: fitTopicName(customer.displayName),
	});
	await deps.database.db
		.update(customers)
		.set({ topicId: topic.message_thread_id })
		.where(and(eq(customers.id, customerId), sql`${customers.topicId} is null`));
	return topic.message_thread_id;
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
 * topic is gone (an operator deleted it), a new topic is made and `send` runs once more there:
 * the message that failed is delivered, nothing is lost.
 */
export async function sendToTopic<T>(
	deps: TopicDeps,
	customerId: string,
	send: (topicId: number) => Promise<T>,
): Promise<T> {
	const topicId = await ensureTopic(deps, customerId);
	try {
		return await send(topicId);
	} catch (error) {
		if (!isTopicGone(classifyFailure(error))) throw error;
		await forgetTopic(deps, customerId, topicId);
		return send(await ensureTopic(deps, customerId));
	}
}
