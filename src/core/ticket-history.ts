/** The ticket's event log as operators read it with /history (last events, oldest first). */
import { desc, eq } from "drizzle-orm";
import { ticketEvents } from "../db/schema.ts";
import type { Work } from "./unit-of-work.ts";

export type TicketEvent = typeof ticketEvents.$inferSelect;

export async function lastEvents(
	work: Work,
	customerId: string,
	count = 20,
): Promise<TicketEvent[]> {
	const rows = await work.tx
		.select()
		.from(ticketEvents)
		.where(eq(ticketEvents.customerId, customerId))
		.orderBy(desc(ticketEvents.id))
		.limit(count);
	return rows.reverse();
}
