/**
 * One pass of the timer worker: due timers fire one transaction each, so a
 * timer whose effects fail rolls back alone and never blocks the others. A failing timer is
 * tried again later with backoff and, after `MAX_TIMER_ATTEMPTS` failures, parked: it stays in
 * `timers` with `parked_at` and its reason, out of the worker's way, until the ticket's next
 * change re-arms or cancels it.
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { timers } from "../db/schema.ts";
import type { Logger } from "../observability/logger.ts";
import { errorFacts } from "./error-facts.ts";
import { fireTimer, type TimerRow } from "./timer-firing.ts";
import { type CoreDeps, commit } from "./unit-of-work.ts";

export const MAX_TIMER_ATTEMPTS = 5;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * Fires up to `limit` due timers and returns how many it handled (fired or failed); a full
 * count means more may be due. Throws only when the database itself is unavailable.
 */
export async function fireDueTimers(core: CoreDeps, log: Logger, limit = 50): Promise<number> {
	let handled = 0;
	while (handled < limit) {
		let claimed: TimerRow | undefined;
		try {
			const fired = await commit(core, async (work) => {
				const [due] = await work.tx
					.select()
					.from(timers)
					.where(
						and(
							sql`${timers.fireAt} <= ${new Date().toISOString()}::timestamptz`,
							isNull(timers.parkedAt),
						),
					)
					.orderBy(asc(timers.fireAt))
					.limit(1)
					.for("update", { skipLocked: true });
				if (!due) return false;
				claimed = due;
				await fireTimer(work, due);
				return true;
			});
			if (!fired) break;
		} catch (error) {
			if (!claimed || isDatabaseUnavailable(error)) throw error;
			await recordFailure(core, log, claimed, error);
		}
		handled++;
	}
	return handled;
}

/** The timer is due again after a pause that doubles, or parked once it failed too often. */
async function recordFailure(core: CoreDeps, log: Logger, timer: TimerRow, error: unknown) {
	const facts = errorFacts(error);
	const reason = [facts.errorName, facts.sqlState && `SQLSTATE ${facts.sqlState}`]
		.filter(Boolean)
		.join(", ");
	const attempts = timer.attempts + 1;
	const park = attempts >= MAX_TIMER_ATTEMPTS;
	const retryMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1));
	(park ? log.error : log.warn)(park ? "timer parked after repeated failures" : "timer failed", {
		event: park ? "timer.parked" : "timer.failed",
		customerId: timer.customerId,
		kind: timer.kind,
		attempts,
		...facts,
	});
	await commit(core, async ({ tx }) => {
		await tx
			.update(timers)
			.set({
				attempts,
				lastError: reason,
				...(park ? { parkedAt: new Date() } : { fireAt: new Date(Date.now() + retryMs) }),
			})
			.where(and(eq(timers.customerId, timer.customerId), eq(timers.kind, timer.kind)));
	});
}
