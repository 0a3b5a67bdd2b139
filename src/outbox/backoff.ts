/**
 * What a failed delivery does to its item: it goes back to its queue after a backoff (or after
 * the wait Telegram asked for), or, when it can never succeed, it is dead and operators are told.
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { ClaimedItem, DeliveryFailure } from "./delivery.ts";
import { markDead, requeueItems } from "./statements.ts";

/** The longest backoff after a transient failure. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Exponential backoff with jitter (± 20 %) for transient failures: 1 s, 2 s, 4 s … capped at
 * 30 s (`MAX_BACKOFF_MS`).
 * @example backoffMs(1) // about 1000; backoffMs(9) // about 30000
 */
export function backoffMs(attempts: number): number {
	const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
	return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Items that report on others; when they die nothing more is said about them. */
const NOTICE_KINDS = new Set([
	"topic_notice",
	"topic_text",
	"sla_reminder",
	"card",
	"card_pin",
	"topic_rename",
]);

/**
 * Records a failed delivery. Returns in how many milliseconds the item is due again, or null
 * when it is dead. `aborted`: the call was cut short by a stop, which was no real attempt, so the
 * item is due again at once (the next instance, or this one restarted, resumes it immediately).
 */
export async function recordFailure(
	database: Database,
	log: Logger,
	item: ClaimedItem,
	failure: DeliveryFailure,
	aborted: boolean,
): Promise<number | null> {
	if (failure.kind === "permanent") {
		log.warn("outbox item is dead", {
			event: "outbox.dead",
			customerId: item.customerId,
			id: item.id,
			kind: item.kind,
			reason: failure.description,
		});
		// Operators see it in the topic, with the way to try again; a notice that itself cannot
		// be delivered is only logged, so failures never beget failures.
		const notice =
			NOTICE_KINDS.has(item.kind) || failure.quiet
				? null
				: JSON.stringify({ text: "noticeDead", vars: { reason: failure.description } });
		await markDead(database, item.id, failure.description, notice);
		return null;
	}
	if (failure.kind === "transient")
		log.debug("outbox retry", {
			event: "outbox.retry",
			customerId: item.customerId,
			id: item.id,
			error: failure,
		});
	const delay = aborted
		? 0
		: failure.kind === "flood"
			? failure.retryAfterMs
			: backoffMs(item.attempts);
	await requeueItems(database, [item.id], delay, failure.description, aborted ? 1 : 0);
	return delay;
}
