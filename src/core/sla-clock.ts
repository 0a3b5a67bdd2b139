/**
 * When the SLA clock's reminders fall due: each step counts from the oldest
 * unanswered message, in business time. Arming, firing and merging all ask here, so they cannot
 * disagree about a fire time.
 */
import { addBusinessTime } from "./business-hours.ts";
import type { TimerPolicy } from "./unit-of-work.ts";

/**
 * The fire time of reminder `step` of a clock started at `since`, or null when the policy has
 * no such step (the clock is done).
 * @example slaFireAt({ slaReminders: [600_000], ... }, since) // since + 10 min (business time)
 */
export function slaFireAt(policy: TimerPolicy, since: Date, step = 0): Date | null {
	const after = policy.slaReminders[step];
	if (after === undefined) return null;
	return addBusinessTime(since, after, policy.businessHours);
}
