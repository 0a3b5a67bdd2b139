/**
 * Arming and cancelling durable timers: the SLA clock while a customer waits for an operator
 * (started by the accept statement, accept-statement.ts), and the reminder and auto-close while
 * a ticket waits for the customer. The same transactions that change the ticket call these; what happens when a timer fires is
 * `timer-firing.ts`, which may change the ticket in turn (so the two stay apart: no cycle).
 */
import { and, eq, inArray } from "drizzle-orm";
import { type TicketStatus, type TimerKind, timers } from "../db/schema.ts";
import type { Work } from "./unit-of-work.ts";

export async function cancelTimers(work: Work, customerId: string, kinds: TimerKind[]) {
	await work.tx
		.delete(timers)
		.where(and(eq(timers.customerId, customerId), inArray(timers.kind, kinds)));
}

/** The ticket now waits for the customer: remind them, then close if they stay silent. */
export async function armWaiting(work: Work, customerId: string) {
	const now = Date.now();
	for (const [kind, after] of [
		["waiting_reminder", work.policy.waitingReminder],
		["waiting_autoclose", work.policy.waitingAutoclose],
	] as const) {
		await work.tx
			.insert(timers)
			.values({ customerId, kind, fireAt: new Date(now + after) })
			.onConflictDoUpdate({
				target: [timers.customerId, timers.kind],
				set: { fireAt: new Date(now + after) },
			});
	}
}

/** Keeps the timers in step with a status change. */
export async function onStatusChanged(work: Work, customerId: string, to: TicketStatus) {
	if (to === "CLOSED")
		return cancelTimers(work, customerId, ["sla", "waiting_reminder", "waiting_autoclose"]);
	if (to === "WAITING_CLIENT") return armWaiting(work, customerId);
	await cancelTimers(work, customerId, ["waiting_reminder", "waiting_autoclose"]);
}
