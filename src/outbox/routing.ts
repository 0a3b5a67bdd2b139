/**
 * Which chat's flood budget an outbox item draws from, and how urgent it is within that budget:
 * customer messages first, then notices and the rest, then card edits, then pins, which wait
 * for an idle group (`IDLE_PRIORITY`). Every writer of outbox rows (`ENQUEUE_SQL`) routes
 * through here.
 */
import type { OutboxKind } from "./items.ts";

export interface OutboxRoute {
	target: "group" | "dm";
	priority: number;
}

/**
 * Items of this priority or more urgent (messages, notices) keep the order they were filed in;
 * less urgent ones (card edits, renames, pins) wait until none of those is pending in their queue
 * (\`outbox_next\` in src/db/functions/outbox.sql).
 */
export const URGENT_PRIORITY = 1;

/**
 * Heads of this priority or lower are claimed only while the group is idle: no other group head
 * runnable, none in flight, budget to spare (claim.ts, worker.ts).
 */
export const IDLE_PRIORITY = 3;

/** @example outboxRouting("topic_message") // { target: "group", priority: 0 } */
export function outboxRouting(kind: OutboxKind): OutboxRoute {
	const target = kind.startsWith("dm_") ? "dm" : "group";
	return { target, priority: priorityOf(kind) };
}

function priorityOf(kind: OutboxKind): number {
	switch (kind) {
		case "topic_message":
		case "dm_message":
			return 0;
		// The card renders the current state at delivery: a late edit loses nothing.
		case "card":
		case "topic_rename":
			return 2;
		case "card_pin":
			return IDLE_PRIORITY;
		default:
			return 1;
	}
}
