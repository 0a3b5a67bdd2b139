/**
 * The customer's 1–5 rating of a closed ticket, whichever door it comes through: the rating
 * buttons in the private chat, `POST /api/chat/rate` / the WebSocket `rate` frame, or a close
 * from the widget that carries a rating. One rule for all: a ticket can be rated once per close.
 */
import { and, desc, eq, inArray } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import { customers, ticketEvents } from "../db/schema.ts";
import { AppError } from "./errors.ts";
import { recordEvent } from "./status.ts";
import { type CoreDeps, commit, type Work } from "./unit-of-work.ts";

export const MAX_FEEDBACK = 2000;

export const nothingToRate = () =>
	new AppError(
		"NOTHING_TO_RATE",
		"There is nothing to rate: the conversation is not closed, or it was already rated.",
		400,
	);

/**
 * True when the ticket is CLOSED and was not rated since its last close (by any channel): the
 * latest of its CLOSED and RATED events is the close.
 */
export async function canRate(db: Tx | Database["db"], customerId: string): Promise<boolean> {
	const [customer] = await db
		.select({ status: customers.status })
		.from(customers)
		.where(eq(customers.id, customerId));
	if (customer?.status !== "CLOSED") return false;
	const [latest] = await db
		.select({ kind: ticketEvents.kind })
		.from(ticketEvents)
		.where(
			and(eq(ticketEvents.customerId, customerId), inArray(ticketEvents.kind, ["CLOSED", "RATED"])),
		)
		.orderBy(desc(ticketEvents.id))
		.limit(1);
	return latest?.kind === "CLOSED";
}

export interface RatingInput {
	/** A whole number from 1 to 5 (checked by the doors, which answer in their own words). */
	rating: number;
	feedback?: string;
}

/**
 * Records the rating (event RATED, and FEEDBACK when given), shows it in the topic and tells the
 * customer's sockets (`rated`). Returns false, changing nothing, when there is nothing to rate.
 * Takes the customer's row lock first, so two ratings at once store one.
 */
export async function recordRating(
	work: Work,
	customerId: string,
	input: RatingInput,
): Promise<boolean> {
	await work.tx
		.select({ id: customers.id })
		.from(customers)
		.where(eq(customers.id, customerId))
		.for("update");
	if (!(await canRate(work.tx, customerId))) return false;
	await recordEvent(work, customerId, "RATED", "customer", { rating: input.rating });
	await work.enqueue(customerId, {
		kind: "topic_notice",
		text: "noticeRated",
		vars: { rating: input.rating },
	});
	if (input.feedback) await recordFeedback(work, customerId, input.feedback);
	work.emit(customerId, { type: "rated", rating: input.rating });
	return true;
}

/** The customer's words about the support, shown to operators in the topic. */
export async function recordFeedback(work: Work, customerId: string, feedback: string) {
	await recordEvent(work, customerId, "FEEDBACK", "customer", { feedback });
	await work.enqueue(customerId, {
		kind: "topic_notice",
		text: "noticeFeedback",
		vars: { feedback },
	});
}

/**
 * The widget rates a closed ticket (`POST /api/chat/rate`, WS `rate`): 400 NOTHING_TO_RATE when
 * it is open or already rated since its last close.
 * @example await rateTicket(deps, customerId, { rating: 5, feedback: "Quick and kind" })
 */
export async function rateTicket(deps: CoreDeps, customerId: string, input: RatingInput) {
	return commit(deps, async (work) => {
		if (!(await recordRating(work, customerId, input))) throw nothingToRate();
		return { ticketId: customerId, rating: input.rating };
	});
}
