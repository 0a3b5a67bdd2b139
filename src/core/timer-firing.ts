/**
 * What a due timer does: an SLA reminder to operators (and the next step armed; a breach that
 * went to the ticket's assignee is followed by the admins' turn), a
 * waiting reminder to the customer, or the auto-close. `timer-runs.ts` claims due timers and
 * calls `fireTimer` one transaction each.
 */
import { and, eq } from "drizzle-orm";
import { customers, timers } from "../db/schema.ts";
import { slaEscalationAt, slaEscalationOffset, slaFireAt } from "./sla-clock.ts";
import { changeStatus } from "./status.ts";
import { tellCustomer } from "./system-messages.ts";
import type { Work } from "./unit-of-work.ts";

export type TimerRow = typeof timers.$inferSelect;

/** Applies one due timer and removes or re-arms it, in the caller's transaction. */
export async function fireTimer(work: Work, timer: TimerRow): Promise<void> {
	const done = () =>
		work.tx
			.delete(timers)
			.where(and(eq(timers.customerId, timer.customerId), eq(timers.kind, timer.kind)));
	const [customer] = await work.tx
		.select({ status: customers.status, assigneeId: customers.assigneeId })
		.from(customers)
		.where(eq(customers.id, timer.customerId));
	if (!customer) return;
	if (timer.kind === "sla") {
		if (customer.status === "CLOSED") return void (await done());
		const reminders = work.policy.slaReminders;
		const since = timer.since ?? timer.createdAt;
		// A breach that went to the assignee is followed by the admins' turn, one step further.
		const escalation = timer.step >= reminders.length;
		const last = timer.step >= reminders.length - 1;
		const assignee = escalation ? null : customer.assigneeId;
		await work.enqueue(timer.customerId, {
			kind: "sla_reminder",
			waitedMs: escalation ? slaEscalationOffset(work.policy) : (reminders[timer.step] ?? 0),
			breach: last,
			...(assignee != null && { assignee }),
		});
		const nextAt =
			last && !escalation && assignee != null
				? slaEscalationAt(work.policy, since)
				: slaFireAt(work.policy, since, timer.step + 1);
		if (!nextAt) return void (await done());
		await work.tx
			.update(timers)
			.set({ step: timer.step + 1, fireAt: nextAt })
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
