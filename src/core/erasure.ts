/**
 * Erasure of one customer's data (`/erase`): web sessions, messages (with their
 * Telegram copies' records), files, link tokens, timers, queued Telegram work and the ticket's
 * log are deleted; the customer row stays as an anonymous tombstone that keeps the topic, so the
 * topic gets its notice and a new conversation from the same person starts a new customer (the
 * tombstone has no Telegram id and no sessions to be found by).
 */
import { eq, sql } from "drizzle-orm";
import {
	customers,
	linkTokens,
	media,
	messages,
	outbox,
	ticketEvents,
	timers,
	webSessions,
} from "../db/schema.ts";
import { lockOutboxHeads, syncOutboxHeads } from "../outbox/admin.ts";
import type { Work } from "./unit-of-work.ts";

export interface ErasureResult {
	messages: number;
	files: number;
	sessions: number;
}

/**
 * Erases `customerId` inside the caller's transaction and queues the topic's notice, new name and
 * card. The returned counts carry no personal data (for the log).
 */
export async function eraseCustomer(
	work: Work,
	customerId: string,
	actor: string,
): Promise<ErasureResult | null> {
	const [locked] = await work.tx
		.select({ id: customers.id })
		.from(customers)
		.where(eq(customers.id, customerId))
		.for("update");
	if (!locked) return null;
	const { tx } = work;
	const gone = async (statement: Promise<unknown[]>) => (await statement).length;
	const erasedMessages = await gone(
		tx.delete(messages).where(eq(messages.customerId, customerId)).returning({ id: messages.id }),
	);
	const files = await gone(
		tx.delete(media).where(eq(media.customerId, customerId)).returning({ id: media.id }),
	);
	const sessions = await gone(
		tx
			.delete(webSessions)
			.where(eq(webSessions.customerId, customerId))
			.returning({ id: webSessions.id }),
	);
	await tx.delete(linkTokens).where(eq(linkTokens.customerId, customerId));
	await tx.delete(timers).where(eq(timers.customerId, customerId));
	await lockOutboxHeads(tx, [customerId]);
	await tx.delete(outbox).where(eq(outbox.customerId, customerId));
	await syncOutboxHeads(tx, [customerId]);
	await tx.delete(ticketEvents).where(eq(ticketEvents.customerId, customerId));
	await tx
		.update(customers)
		.set({
			status: "CLOSED",
			displayName: work.texts.get("erasedName"),
			telegramUserId: null,
			telegramUsername: null,
			telegramFirstName: null,
			telegramLastName: null,
			locale: null,
			phone: null,
			sourceUrl: null,
			city: null,
			phoneAskedAt: null,
			lastMessageAt: null,
		})
		.where(eq(customers.id, customerId));
	await tx.insert(ticketEvents).values({
		customerId,
		kind: "ERASED",
		actor,
		toStatus: "CLOSED",
		createdAt: sql`now()`,
	});
	await work.enqueue(customerId, { kind: "topic_notice", text: "erasedNotice" });
	await work.enqueue(customerId, { kind: "topic_rename" });
	await work.enqueue(customerId, { kind: "card" });
	work.emit(customerId, { type: "erased" });
	return { messages: erasedMessages, files, sessions };
}
