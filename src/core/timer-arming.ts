/**
 * Arming and cancelling durable timers: the SLA clock while a customer waits for an
 * operator, and the reminder and auto-close while a ticket waits for the customer. The same
 * transactions that change the ticket call these; what happens when a timer fires is
 * `timer-firing.ts`, which may change the ticket in turn (so the two stay apart: no cycle).
 */
import { and, eq, inArray } from "drizzle-orm";
import { quotedArrayLiteral, rawQuery } from "../db/raw-sql.ts";
import { type TicketStatus, type TimerKind, timers } from "../db/schema.ts";
import { slaFireAt } from "./sla-clock.ts";
import type { Work } from "./unit-of-work.ts";

/**
 * Customers' messages are waiting: each one's SLA clock starts unless it already runs (it counts
 * from the oldest unanswered message, so a later message does not restart it). One statement for
 * any number of customers.
 */
/** One array per column: the same text for any number of clocks, planned once per connection. */
const ARM_SLA_SQL = `insert into timers (customer_id, kind, step, since, fire_at)
select customer_id, 'sla', 0, since, fire_at
from unnest($1::text::uuid[], $2::text::timestamptz[], $3::text::timestamptz[])
	as c(customer_id, since, fire_at)
on conflict do nothing`;

export async function armSla(work: Work, waiting: readonly { customerId: string; since: Date }[]) {
	const clocks = waiting.flatMap(({ customerId, since }) => {
		const fireAt = slaFireAt(work.policy, since);
		return fireAt ? [{ customerId, kind: "sla" as const, step: 0, since, fireAt }] : [];
	});
	if (clocks.length > 0)
		await rawQuery(work.tx, ARM_SLA_SQL, [
			quotedArrayLiteral(clocks.map((clock) => clock.customerId)),
			quotedArrayLiteral(clocks.map((clock) => clock.since.toISOString())),
			quotedArrayLiteral(clocks.map((clock) => clock.fireAt.toISOString())),
		]);
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
export async function onStatusChanged(work: Work, customerId: string, to: TicketStatus) {
	if (to === "CLOSED")
		return cancelTimers(work, customerId, ["sla", "waiting_reminder", "waiting_autoclose"]);
	if (to === "WAITING_CLIENT") return armWaiting(work, customerId);
	await cancelTimers(work, customerId, ["waiting_reminder", "waiting_autoclose"]);
}
