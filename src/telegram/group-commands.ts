/**
 * The commands about support groups. `/move <group id>` in a customer's topic: the customer moves
 * to that group; a new topic opens there with the card and a link to the old topic, and the old
 * topic gets a notice with a link to the new one; later messages and queued work go there too.
 * `/retry` in a group's General topic queues again the failed items of all its customers (what
 * waited while the bot could not write to the group).
 */
import { sql } from "drizzle-orm";
import type { TelegramMessage } from "gramio";
import { moveCustomer } from "../core/move-customer.ts";
import { customerOfTopic, groupKey, storedGroup } from "../core/support-groups.ts";
import type { Work } from "../core/unit-of-work.ts";
import { customers, outbox } from "../db/schema.ts";
import { retryDead } from "../outbox/admin.ts";
import type { RouterDeps } from "./router-deps.ts";
import { topicLink } from "./topics.ts";

export const MOVE_COMMAND = /^\/move(?:@\w+)?(?:\s|$)/i;
const MOVE_TARGET = /^\/move(?:@\w+)?\s+(-?\d+)\s*$/i;
export const RETRY_COMMAND = /^\/retry(?:@\w+)?\s*$/i;

/** Moves the customer of the topic (in the update's group) to the group the command names. */
export async function answerMove(work: Work, deps: RouterDeps, message: TelegramMessage) {
	const topicId = message.message_thread_id as number;
	const customerId = await customerOfTopic(work.tx, topicId, deps.groupKey);
	if (!customerId) return;
	const ids = deps.groups.ids();
	const target = Number(MOVE_TARGET.exec(message.text ?? "")?.[1]);
	const refuse = (answer: string) => work.enqueue(customerId, { kind: "topic_text", text: answer });
	if (!ids.includes(target))
		return refuse(deps.texts.get("moveUnknownGroup", { groups: ids.join(", ") }));
	if (target === deps.groupId) return refuse(deps.texts.get("moveSameGroup"));
	const old = topicLink(deps.groupId, topicId);
	await moveCustomer(work, {
		customerId,
		groupId: target,
		storedGroup: storedGroup(deps.groups, target),
		groupKey: groupKey(ids, target),
		there: [
			{ kind: "topic_text", text: deps.texts.get("moveArrived", { topicLink: old }), open: true },
		],
		left: [{ kind: "topic_notice", text: "moveDone", topicId, groupId: deps.groupId }],
		actor: `operator:${message.from?.id ?? "unknown"}`,
	});
}

/**
 * `/retry` in the General topic: every customer of this group with failed items gets them queued
 * again, in customer order (the order every writer locks queue heads in); answered in General.
 */
export async function answerGroupRetry(work: Work, deps: RouterDeps) {
	const rows = await work.tx
		.selectDistinct({ id: outbox.customerId })
		.from(outbox)
		.innerJoin(customers, sql`${customers.id} = ${outbox.customerId}`)
		.where(sql`${outbox.state} = 'dead' and coalesce(${customers.groupId}, 0) = ${deps.groupKey}`)
		.orderBy(outbox.customerId);
	let count = 0;
	for (const { id } of rows) if (id) count += await retryDead(work, id);
	const text = deps.texts.get("retryDone", { count });
	await work.enqueueAll([
		{ customerId: null, item: { kind: "group_text", text, groupId: deps.groupId } },
	]);
}
