/**
 * Durable timers (SPEC §3.5): the SLA clock while a customer waits for an operator, and the
 * reminder and auto-close while a ticket waits for the customer. They live in `timers`, are armed
 * and cancelled by the same transactions that change the ticket, and fire exactly once.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { customers, type TimerKind, timers } from "../db/schema.ts";
import { addBusinessTime } from "./business-hours.ts";
import { changeStatus } from "./status.ts";
import { tellCustomer } from "./system-messages.ts";
import type { Work } from "./unit-of-work.ts";

/**
 * A customer message is waiting: the SLA clock starts unless it already runs (it counts from the
 * oldest unanswered message, so a later message does not restart it).
 */
export async function armSla(work: Work, customerId: string, since: Date) {
	const first = work.policy.slaReminders[0];
	if (first === undefined) return;
	await work.tx
		.insert(timers)
		.values({
			customerId,
			kind: "sla",
			step: 0,
			since,
			fireAt: addBusinessTime(since, first, work.policy.businessHours),
		})
		.onConflictDoNothing();
}

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
export async function onStatusChanged(work: Work, customerId: string, to: string) {
	if (to === "CLOSED")
		return cancelTimers(work, customerId, ["sla", "waiting_reminder", "waiting_autoclose"]);
	if (to === "WAITING_CLIENT") return armWaiting(work, customerId);
	await cancelTimers(work, customerId, ["waiting_reminder", "waiting_autoclose"]);
}

export type TimerRow = typeof timers.$inferSelect;

/** Claims due timers for this transaction; other instances skip them (fired once). */
export async function claimDueTimers(work: Work, limit = 50): Promise<TimerRow[]> {
	return work.tx
		.select()
		.from(timers)
		.where(sql`${timers.fireAt} <= ${new Date().toISOString()}::timestamptz`)
		.orderBy(timers.fireAt)
		.limit(limit)
		.for("update", { skipLocked: true });
}

/** Applies one due timer and removes or re-arms it, in the caller's transaction. */
export async function fireTimer(work: Work, timer: TimerRow): Promise<void> {
	const done = () =>
		work.tx
			.delete(timers)
			.where(and(eq(timers.customerId, timer.customerId), eq(timers.kind, timer.kind)));
	const [customer] = await work.tx
		.select({ status: customers.status })
		.from(customers)
		.where(eq(customers.id, timer.customerId));
	if (!customer) return;
	if (timer.kind === "sla") {
		if (customer.status === "CLOSED") return void (await done());
		const reminders = work.policy.slaReminders;
		const last = timer.step >= reminders.length - 1;
		await work.enqueue(timer.customerId, {
			kind: "sla_reminder",
			waitedMs: reminders[timer.step] ?? 0,
			breach: last,
		});
		const next = reminders[timer.step + 1];
		if (last || next === undefined) return void (await done());
		const since = timer.since ?? timer.createdAt;
		await work.tx
			.update(timers)
			.set({
				step: timer.step + 1,
				fireAt: addBusinessTime(since, next, work.policy.businessHours),
			})
			.where(and(eq(timers.customerId, timer.customerId), eq(timers.kind, "sla")));
		return;
	}
	await done();
	if (customer.status !== "WAITING_CLIENT") return;
	if (timer.kind === "waiting_autoclose") {
		await changeStatus(work, timer.customerId, "CLOSED", "system:autoclose");
		return;
	}
	await remindCustomer(work, timer.customerId);
}

/** "We are waiting for your reply", in every channel the customer uses. */
async function remindCustomer(work: Work, customerId: string) {
	await tellCustomer(work, customerId, {
		web: "webWaitingReminder",
		dm: [{ text: "dmWaitingReminder" }],
	});
}
