/**
 * The customer's ticket as the widget sees it, and closing it from the web.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers, type TicketStatus } from "../db/schema.ts";
import { AppError } from "./errors.ts";
import { canRate, recordFeedback, recordRating } from "./ratings.ts";
import { changeStatus } from "./status.ts";
import { type CoreDeps, commit } from "./unit-of-work.ts";

export interface TicketView {
	ticketId: string;
	status: TicketStatus;
	telegramLinked: boolean;
	telegramUsername: string | null;
	createdAt: string;
	lastMessageAt: string | null;
	/** A rating would be accepted now: closed, and not rated since the last close. */
	canRate: boolean;
}

export async function ticketOf(database: Database, customerId: string): Promise<TicketView> {
	const [row] = await database.db.select().from(customers).where(eq(customers.id, customerId));
	if (!row) throw new AppError("SESSION_NOT_FOUND", "Session not found.", 401);
	return {
		ticketId: row.id,
		status: row.status,
		telegramLinked: row.telegramUserId != null,
		telegramUsername: row.telegramUsername,
		createdAt: row.createdAt.toISOString(),
		lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
		canRate: row.status === "CLOSED" && (await canRate(database.db, customerId)),
	};
}

export interface CloseRequest {
	resolved?: boolean;
	feedback?: string;
	rating?: number;
}

/**
 * The customer closes their ticket from the widget, optionally rating the support 1–5 and leaving
 * feedback, which operators see in the topic. Closing a closed ticket is 400 TICKET_CLOSED.
 */
export async function closeByCustomer(deps: CoreDeps, customerId: string, request: CloseRequest) {
	return commit(deps, async (work) => {
		// A rating given with the close is not asked for again in the private chat.
		const previous = await changeStatus(work, customerId, "CLOSED", "customer", {
			askRating: request.rating === undefined,
		});
		if (previous === null)
			throw new AppError("TICKET_CLOSED", "This conversation is already closed.", 400);
		if (request.rating !== undefined)
			await recordRating(work, customerId, { rating: request.rating, feedback: request.feedback });
		else if (request.feedback) await recordFeedback(work, customerId, request.feedback);
		return { ticketId: customerId, status: "CLOSED" as const, closedAt: new Date().toISOString() };
	});
}
