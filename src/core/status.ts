/**
 * Ticket status changes (SPEC §3.4). Every change writes its event row, tells the customer's
 * sockets, and owes the topic a notice; callers decide *when*, this module decides *how*.
 */
import { eq } from "drizzle-orm";
import { customers, type TicketStatus, ticketEvents } from "../db/schema.ts";
import type { Work } from "./unit-of-work.ts";

export type EventKind =
	| "OPENED"
	| "REOPENED"
	| "STATUS_CHANGED"
	| "CLOSED"
	| "PHONE_UPDATED"
	| "LINKED"
	| "RATED"
	| "FEEDBACK";

/** Who or what caused a change: `customer`, `operator:<telegram id>`, `system:<reason>`. */
export type Actor = string;

export async function recordEvent(
	work: Work,
	customerId: string,
	kind: EventKind,
	actor: Actor,
	details: Record<string, unknown> | null = null,
	change?: { from: TicketStatus; to: TicketStatus },
) {
	await work.tx.insert(ticketEvents).values({
		customerId,
		kind,
		actor,
		details,
		fromStatus: change?.from ?? null,
		toStatus: change?.to ?? null,
	});
}

/**
 * Moves the ticket to `to` (no-op when already there). Returns the previous status.
 * `kind` names the event: CLOSED and REOPENED for those transitions, STATUS_CHANGED otherwise.
 */
export async function changeStatus(
	work: Work,
	customerId: string,
	to: TicketStatus,
	actor: Actor,
): Promise<TicketStatus | null> {
	const [row] = await work.tx
		.select({ status: customers.status })
		.from(customers)
		.where(eq(customers.id, customerId))
		.for("update");
	if (!row || row.status === to) return null;
	const from = row.status;
	await work.tx.update(customers).set({ status: to }).where(eq(customers.id, customerId));
	const kind: EventKind =
		to === "CLOSED" ? "CLOSED" : from === "CLOSED" ? "REOPENED" : "STATUS_CHANGED";
	await recordEvent(work, customerId, kind, actor, null, { from, to });
	work.emit(customerId, { type: "status", status: to });
	await work.enqueue(customerId, {
		kind: "topic_notice",
		text: to === "CLOSED" ? "noticeClosed" : from === "CLOSED" ? "noticeReopened" : "noticeStatus",
		vars: { status: to },
	});
	return from;
}
