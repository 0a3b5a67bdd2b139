/**
 * Who owns a ticket. An operator takes it ("Take" on the card), is given it (`/assign`), or, with
 * `assignment.auto` = "first-reply", gets it by answering an unassigned ticket first; `/unassign`
 * clears it. A closed ticket keeps its assignee, so the customer writing again brings it back to
 * them. Every change: event `ASSIGNED` / `UNASSIGNED`, card edit, and (but for the automatic one,
 * whose reply already shows in the topic) a topic notice.
 */
import { eq } from "drizzle-orm";
import { customers } from "../db/schema.ts";
import { type Operator, operatorById, operatorLabel, rememberOperator } from "./operators.ts";
import { type Actor, recordEvent } from "./status.ts";
import type { Work } from "./unit-of-work.ts";

/** How a ticket came to its assignee, kept in the event's details. */
export type AssignedBy = "take" | "assign" | "first-reply";

export type AssignResult =
	| { outcome: "assigned"; operator: Operator }
	/** The operator already had it: nothing changed. */
	| { outcome: "already"; operator: Operator }
	/** Someone else has it and only an unassigned ticket was to be taken: nothing changed. */
	| { outcome: "taken"; holder: Operator };

/** The ticket's current assignee id, its row locked (every writer of a ticket locks it first). */
async function lockedAssignee(work: Work, customerId: string) {
	const [row] = await work.tx
		.select({ assigneeId: customers.assigneeId })
		.from(customers)
		.where(eq(customers.id, customerId))
		.for("update");
	return row ? row.assigneeId : undefined;
}

/**
 * Makes `operator` the ticket's assignee. `onlyIfUnassigned` (Take, first reply): a ticket
 * someone else has stays theirs, and the answer names them; two operators taking at once are
 * served one after the other under the row lock, so exactly one wins.
 */
export async function assignTicket(
	work: Work,
	customerId: string,
	operator: Operator,
	options: {
		by: AssignedBy;
		actor: Actor;
		onlyIfUnassigned?: boolean;
		/** The assignee as the caller's transaction already locked and read it (no second read). */
		lockedAssignee?: number | null;
	},
): Promise<AssignResult | null> {
	const current =
		options.lockedAssignee !== undefined
			? options.lockedAssignee
			: await lockedAssignee(work, customerId);
	if (current === undefined) return null;
	// A first reply's statement has just recorded its author.
	if (options.by !== "first-reply") await rememberOperator(work, operator);
	if (current === operator.telegramUserId) return { outcome: "already", operator };
	if (current !== null && options.onlyIfUnassigned) {
		const holder = (await operatorById(work, current)) ?? {
			telegramUserId: current,
			name: String(current),
			username: null,
		};
		return { outcome: "taken", holder };
	}
	await work.tx
		.update(customers)
		.set({ assigneeId: operator.telegramUserId })
		.where(eq(customers.id, customerId));
	const label = operatorLabel(operator);
	await recordEvent(work, customerId, "ASSIGNED", options.actor, {
		operator: label,
		by: options.by,
	});
	if (options.by !== "first-reply")
		await work.enqueue(customerId, {
			kind: "topic_notice",
			text: "noticeAssigned",
			vars: { operator: label },
		});
	await work.enqueue(customerId, { kind: "card" });
	return { outcome: "assigned", operator };
}

/** Clears the assignee; returns who had the ticket, or null when nobody had it. */
export async function unassignTicket(
	work: Work,
	customerId: string,
	actor: Actor,
): Promise<Operator | null> {
	const current = await lockedAssignee(work, customerId);
	if (current == null) return null;
	const holder = (await operatorById(work, current)) ?? {
		telegramUserId: current,
		name: String(current),
		username: null,
	};
	await work.tx.update(customers).set({ assigneeId: null }).where(eq(customers.id, customerId));
	const label = operatorLabel(holder);
	await recordEvent(work, customerId, "UNASSIGNED", actor, { operator: label });
	await work.enqueue(customerId, {
		kind: "topic_notice",
		text: "noticeUnassigned",
		vars: { operator: label },
	});
	await work.enqueue(customerId, { kind: "card" });
	return holder;
}
