/**
 * What claimed group work costs in calls against a group's flood budget: a new ticket's first
 * message makes two (its topic, then the card with the question), anything else one. Claiming by
 * items alone would let a rush of new tickets take twice the budget's calls, topics first, and
 * leave their questions waiting for the next window.
 */
import type { Claimed } from "./claim.ts";
import type { OutboxKind } from "./items.ts";
import { IDLE_PRIORITY, outboxRouting } from "./routing.ts";

/** Calls an item makes into its group (an upper bound that matters: a topic yet to be made). */
export function groupCallsOf({ item }: Claimed): number {
	const opensTopic = item.kind === "topic_message" && item.prefetched?.topicId == null;
	return opensTopic ? 2 : 1;
}

/**
 * The claimed group items the budget's `calls` carry, in claim order, and those beyond it. The
 * first item is always kept (it waits for the window in the client), so work never stalls.
 */
export function withinCalls(rows: readonly Claimed[], calls: number) {
	let spent = 0;
	const kept: Claimed[] = [];
	const back: Claimed[] = [];
	for (const row of rows) {
		spent += groupCallsOf(row);
		if (kept.length === 0 || spent <= calls) kept.push(row);
		else back.push(row);
	}
	return { kept, back };
}

/** Work that waits for an idle group (pins), claimed up to its own limit. */
export function waitsForIdle(kind: string): boolean {
	return outboxRouting(kind as OutboxKind).priority >= IDLE_PRIORITY;
}
