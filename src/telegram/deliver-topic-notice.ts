/**
 * Outbox handler `topic_notice`: a line for operators in the customer's topic (status changes,
 * ratings, feedback), rendered in the desk's locale at delivery time.
 */
import { eq } from "drizzle-orm";
import { customers } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import type { Texts } from "../i18n/texts.ts";
import type { OutboxHandler } from "./outbox-worker.ts";
import { sendToTopic, type TopicDeps } from "./topics.ts";

export function renderNotice(
	texts: Texts,
	key: TextKey,
	vars: Record<string, string | number> = {},
) {
	const status = typeof vars.status === "string" ? vars.status : undefined;
	const shown = status ? { ...vars, status: texts.get(`status${status}` as TextKey) } : vars;
	return texts.get(key, shown);
}

export function topicNoticeHandler(deps: TopicDeps & { texts: Texts }): OutboxHandler {
	return async ({ item }) => {
		const [customer] = await deps.database.db
			.select({ topicId: customers.topicId })
			.from(customers)
			.where(eq(customers.id, item.customerId));
		if (customer?.topicId == null) return;
		const text = renderNotice(
			deps.texts,
			item.payload.text as TextKey,
			item.payload.vars as Record<string, string | number> | undefined,
		);
		await sendToTopic(deps, item.customerId, (topicId) =>
			deps.api.sendMessage({ chat_id: deps.groupId, message_thread_id: topicId, text }),
		);
	};
}
