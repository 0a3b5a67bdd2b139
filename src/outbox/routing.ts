/**
 * Which chat's flood budget an outbox item draws from, and whether operators are waiting for it:
 * customer messages go before reminders and card edits when the budget is short. Every writer
 * of outbox rows (`ENQUEUE_SQL`) routes through here.
 */
import type { OutboxKind } from "./items.ts";

export interface OutboxRoute {
	target: "group" | "dm";
	priority: number;
}

/** @example outboxRouting("topic_message") // { target: "group", priority: 0 } */
export function outboxRouting(kind: OutboxKind): OutboxRoute {
	const target = kind.startsWith("dm_") ? "dm" : "group";
	const priority = kind === "topic_message" || kind === "dm_message" ? 0 : 1;
	return { target, priority };
}
