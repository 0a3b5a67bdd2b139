/**
 * An operator moves a customer to another support group (`/move`): from now on their topic,
 * card and every later message are in that group, and queued work follows them.
 */
import { eq } from "drizzle-orm";
import { customers } from "../db/schema.ts";
import { moveOutboxQueue } from "../outbox/admin.ts";
import type { OutboxItem } from "../outbox/items.ts";
import { recordEvent } from "./status.ts";
import type { Work } from "./unit-of-work.ts";

export interface CustomerMove {
	customerId: string;
	/** The group moved to. */
	groupId: number;
	/** `customers.group_id` of the group moved to (null: the default group). */
	storedGroup: number | null;
	/** `outbox_heads.group_id` of that group (0: the default group). */
	groupKey: number;
	/** Queued for the new group after the move: the first one opens the topic there. */
	there: OutboxItem[];
	/** Queued after those: the notice for the old topic (it names its own group). */
	left: OutboxItem[];
	actor: string;
}

/**
 * Forgets the customer's topic and card and records the new group, in the customer's row first
 * (every path locks the customer before their queue's head), then points their queue at the
 * group's budget and queues what the move owes both topics.
 */
export async function moveCustomer(work: Work, move: CustomerMove) {
	await work.tx
		.update(customers)
		.set({ groupId: move.storedGroup, topicId: null, cardMessageId: null })
		.where(eq(customers.id, move.customerId));
	await moveOutboxQueue(work.tx, move.customerId, move.groupKey);
	await recordEvent(work, move.customerId, "MOVED", move.actor, { group: move.groupId });
	for (const item of [...move.there, ...move.left]) await work.enqueue(move.customerId, item);
}
