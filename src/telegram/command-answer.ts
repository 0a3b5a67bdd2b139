/**
 * What the support group's commands share: the customer of the topic a command was written in,
 * the message it explicitly replies to, and the internal answer, in that topic or, outside a
 * customer's topic, in the General topic.
 */
import type { TelegramMessage } from "gramio";
import { customerOfTopic } from "../core/support-groups.ts";
import type { Work } from "../core/unit-of-work.ts";
import type { RouterDeps } from "./router-deps.ts";

/**
 * The customer whose topic (in this group) the message was written in; null in General or another
 * topic.
 */
export async function topicCustomer(
	work: Work,
	deps: Pick<RouterDeps, "groupKey">,
	message: TelegramMessage,
): Promise<string | null> {
	if (!message.is_topic_message || message.message_thread_id === undefined) return null;
	return customerOfTopic(work.tx, message.message_thread_id, deps.groupKey);
}

/**
 * The message this one answers on purpose: in a forum every topic post replies to the topic's
 * root (its creation), which does not count.
 */
export function explicitReply(message: TelegramMessage): TelegramMessage | undefined {
	const target = message.reply_to_message;
	if (!target || target.message_id === message.message_thread_id || target.forum_topic_created)
		return undefined;
	return target;
}

/** An answer for operators only: in the customer's topic, else in this group's General topic. */
export async function answerOperators(
	work: Work,
	deps: Pick<RouterDeps, "groupId">,
	customerId: string | null,
	text: string,
) {
	if (customerId) await work.enqueue(customerId, { kind: "topic_text", text });
	else
		await work.enqueueAll([
			{ customerId: null, item: { kind: "group_text", text, groupId: deps.groupId } },
		]);
}
