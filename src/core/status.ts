/**
 * Ticket status changes. Every change writes its event row, edits the card, leaves a
 * notice in the topic and tells the customer's sockets; a close also tells the customer, in every
 * channel they use, how to reopen and asks for a rating. Callers decide *when*; this decides *how*.
 */
import { eq } from "drizzle-orm";
import { customers, type TicketStatus, ticketEvents } from "../db/schema.ts";
import { operatorById, operatorLabel } from "./operators.ts";
import { tellCustomer } from "./system-messages.ts";
import { onStatusChanged } from "./timer-arming.ts";
import type { Work } from "./unit-of-work.ts";

export type EventKind =
	| "OPENED"
	| "REOPENED"
	| "STATUS_CHANGED"
	| "CLOSED"
	| "PHONE_UPDATED"
	| "LINKED"
	| "IDENTIFIED"
	| "AWAY"
	| "RATED"
	| "FEEDBACK"
	| "ASSIGNED"
	| "UNASSIGNED"
	| "MOVED";

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

export interface StatusChangeOptions {
	/** Ask the customer for a 1–5 rating when closing (not when they just gave one). */
	askRating?: boolean;
	/**
	 * Change only from these statuses, judged under the row lock: an automatic change must not
	 * undo a concurrent one (a reply's delivery never reopens a ticket closed meanwhile).
	 */
	onlyFrom?: TicketStatus[];
	/** The ticket's row as the caller's transaction already locked and read it (no second read). */
	locked?: { status: TicketStatus; assigneeId: number | null };
}

/**
 * Moves the ticket to `to`; returns the previous status, or null when it was already there.
 * The event is CLOSED or REOPENED for those transitions, STATUS_CHANGED otherwise.
 */
export async function changeStatus(
	work: Work,
	customerId: string,
	to: TicketStatus,
	actor: Actor,
	options: StatusChangeOptions = {},
): Promise<TicketStatus | null> {
	const [row] = options.locked
		? [options.locked]
		: await work.tx
				.select({ status: customers.status, assigneeId: customers.assigneeId })
				.from(customers)
				.where(eq(customers.id, customerId))
				.for("update");
	if (!row || row.status === to) return null;
	if (options.onlyFrom && !options.onlyFrom.includes(row.status)) return null;
	const from = row.status;
	await work.tx.update(customers).set({ status: to }).where(eq(customers.id, customerId));
	const kind: EventKind =
		to === "CLOSED" ? "CLOSED" : from === "CLOSED" ? "REOPENED" : "STATUS_CHANGED";
	await recordEvent(work, customerId, kind, actor, null, { from, to });
	work.emit(customerId, { type: "status", status: to });
	// A reopened ticket is its assignee's again: the notice mentions them.
	const owner =
		from === "CLOSED" && row.assigneeId != null ? await operatorById(work, row.assigneeId) : null;
	await work.enqueue(customerId, {
		kind: "topic_notice",
		text:
			to === "CLOSED"
				? "noticeClosed"
				: owner
					? "noticeReopenedAssigned"
					: from === "CLOSED"
						? "noticeReopened"
						: "noticeStatus",
		vars: { status: to, ...(owner && { operator: operatorLabel(owner) }) },
	});
	await work.enqueue(customerId, { kind: "card" });
	await onStatusChanged(work, customerId, to);
	if (to === "CLOSED") await tellCustomerClosed(work, customerId, options);
	return from;
}

/** The customer learns, wherever they are, that the ticket is closed and how to reopen it. */
async function tellCustomerClosed(work: Work, customerId: string, options: StatusChangeOptions) {
	// The widget shows the web notice like any message and asks for the rating itself on `status`.
	await tellCustomer(work, customerId, {
		web: "webClosed",
		dm: [
			{ text: "dmClosed", keyboard: "remove" },
			...(options.askRating === false
				? []
				: [{ text: "dmRateAsk" as const, keyboard: "rating" as const }]),
		],
	});
}
