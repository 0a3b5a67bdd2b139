/**
 * Outbox handlers for lines operators read in a topic: `topic_notice` (status changes, ratings,
 * links…, rendered in the desk's language at delivery) and `topic_text` (command answers), and in
 * the General topic: `group_notice`, `group_text`.
 */
import { eq } from "drizzle-orm";
import { groupOfStored } from "../core/support-groups.ts";
import { customers } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import type { Texts } from "../i18n/texts.ts";
import type { OutboxHandler } from "../outbox/delivery.ts";
import type { Vars } from "../outbox/items.ts";
import { splitText, TEXT_MAX } from "./copies.ts";
import { sendToTopic, type TopicDeps, topicLink } from "./topics.ts";

export function renderNotice(texts: Texts, key: TextKey, vars: Vars = {}) {
	const status = typeof vars.status === "string" ? vars.status : undefined;
	const shown = status ? { ...vars, status: texts.get(`status${status}` as TextKey) } : vars;
	return texts.get(key, shown);
}

async function topicOf(deps: TopicDeps, customerId: string) {
	const [customer] = await deps.database.db
		.select({ topicId: customers.topicId })
		.from(customers)
		.where(eq(customers.id, customerId));
	return customer?.topicId ?? null;
}

/** The customer's current topic and card, and the link to it in whichever group it is now. */
async function currentTopic(deps: TopicDeps, customerId: string) {
	const [customer] = await deps.database.db
		.select({
			topicId: customers.topicId,
			cardMessageId: customers.cardMessageId,
			groupId: customers.groupId,
		})
		.from(customers)
		.where(eq(customers.id, customerId));
	if (customer?.topicId == null) return { topicId: null, cardMessageId: null };
	const groupId = groupOfStored(deps.groupIds?.() ?? [deps.groupId], customer.groupId);
	return {
		topicId: customer.topicId,
		cardMessageId: customer.cardMessageId,
		link: topicLink(groupId ?? deps.groupId, customer.topicId),
	};
}

export function topicNoticeHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item }) => {
		const known = await currentTopic(deps, item.customerId);
		const { topicId: current, link } = known;
		const vars = { ...(item.payload.vars as Vars | undefined) };
		if (link) vars.topicLink = link;
		const text = renderNotice(deps.texts, item.payload.text as TextKey, vars);
		const elsewhere = item.payload.topicId as number | undefined;
		// A topic that is no longer the customer's (after a merge) gets the notice directly.
		if (elsewhere !== undefined) {
			await deps.api.sendMessage({ chat_id: deps.groupId, message_thread_id: elsewhere, text });
			return;
		}
		if (current == null) return; // no conversation in Telegram yet: nothing to annotate
		await sendToTopic(
			deps,
			item.customerId,
			(topicId) =>
				deps.api.sendMessage({ chat_id: deps.groupId, message_thread_id: topicId, text }),
			known,
		);
	};
}

/**
 * `group_notice` (rendered here) and `group_text` (rendered by whoever enqueued it): lines in the
 * group's General topic, i.e. the group without a thread id.
 */
export function groupNoticeHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item }) => {
		const text =
			item.kind === "group_text"
				? String(item.payload.text)
				: renderNotice(
						deps.texts,
						item.payload.text as TextKey,
						item.payload.vars as Vars | undefined,
					);
		for (const piece of splitText(text, TEXT_MAX))
			await deps.api.sendMessage({ chat_id: deps.groupId, text: piece.text });
	};
}

export function topicTextHandler(deps: TopicDeps): OutboxHandler {
	return async ({ item }) => {
		if (!item.payload.open && (await topicOf(deps, item.customerId)) == null) return;
		// Rendered answers such as /history can be long: pieces within Telegram's limit, in order.
		const pieces = splitText(String(item.payload.text), TEXT_MAX);
		await sendToTopic(deps, item.customerId, async (topicId) => {
			for (const piece of pieces)
				await deps.api.sendMessage({
					chat_id: deps.groupId,
					message_thread_id: topicId,
					text: piece.text,
				});
		});
	};
}
