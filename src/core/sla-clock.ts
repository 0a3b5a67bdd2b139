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

/**
 * How long after the clock started the group's admins get the breach when it went to the
 * ticket's assignee first: one more step, as far after the breach as the breach was after the
 * reminder before it.
 * @example slaEscalationOffset({ slaReminders: [600_000, 1_800_000, 7_200_000], ... }) // 12_600_000
 */
export function slaEscalationOffset(policy: TimerPolicy): number {
	const reminders = policy.slaReminders;
	const breach = reminders.at(-1) ?? 0;
	return breach + (breach - (reminders.at(-2) ?? 0));
}

/** The admins' turn after a breach that went to the assignee (see `slaEscalationOffset`). */
export function slaEscalationAt(policy: TimerPolicy, since: Date): Date {
	return addBusinessTime(since, slaEscalationOffset(policy), policy.businessHours);
}
