/** Operators' handle on the outbox: what could not be delivered can be tried again (/retry). */
import { and, eq, sql } from "drizzle-orm";
import { outbox } from "../db/schema.ts";
import type { Work } from "./unit-of-work.ts";

/** Puts the customer's dead items back in the queue, in their original order; returns how many. */
export async function retryDead(work: Work, customerId: string): Promise<number> {
	const revived = await work.tx
		.update(outbox)
		.set({ state: "pending", attempts: 0, nextAttemptAt: sql`now()`, lastError: null })
		.where(and(eq(outbox.customerId, customerId), eq(outbox.state, "dead")))
		.returning({ id: outbox.id });
	return revived.length;
}
