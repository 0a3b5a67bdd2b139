/**
 * Two customers become one (a web customer links a Telegram account that already has
 * its own ticket). Everything of the merged-away customer moves to the survivor: history,
 * sessions, files, events, tokens, queued Telegram work and running timers.
 */
import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
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
import { moveAndRenumberMessages } from "./message-numbers.ts";
import { slaFireAt } from "./sla-clock.ts";
import type { Work } from "./unit-of-work.ts";

export type CustomerRow = typeof customers.$inferSelect;

/** The customer whose topic is older survives a merge; without topics, the older customer. */
export function olderTopicFirst(a: CustomerRow, b: CustomerRow): [CustomerRow, CustomerRow] {
	if (a.topicId != null && b.topicId != null) return a.topicId <= b.topicId ? [a, b] : [b, a];
	if (a.topicId != null) return [a, b];
	if (b.topicId != null) return [b, a];
	return a.createdAt <= b.createdAt ? [a, b] : [b, a];
}

const lastActive = (c: CustomerRow) => (c.lastMessageAt ?? c.createdAt).getTime();

/**
 * Moves everything of `loser` to `survivor` and removes `loser`. The merged history is numbered
 * again in the order it was written (message-numbers.ts). Outbox ids are a global sequence, so
 * the merged queue keeps its order: the claim serves a
 * customer's pending items strictly by id, so the loser's queued items interleave with the
 * survivor's in the order they were written, and an item of the loser already leased by the
 * outbox worker keeps its lease (it is not sent twice).
 *
 * The merged ticket takes the status of the conversation that was active last (the one the
 * customer is in right now), with that side's waiting reminder and auto-close; the SLA clock is
 * re-armed from the oldest customer message the merged history leaves unanswered.
 */
export async function mergeCustomers(work: Work, survivor: CustomerRow, loser: CustomerRow) {
	const move = { customerId: survivor.id };
	// Whatever this transaction owes the loser moves with the loser's items.
	await work.fileOwed();
	// Lock both queues' heads first (as every writer of a queue does), then the loser's items: a
	// concurrent claim or finish waits for this merge to commit.
	await lockOutboxHeads(work.tx, [survivor.id, loser.id]);
	await work.tx
		.select({ id: outbox.id })
		.from(outbox)
		.where(and(eq(outbox.customerId, loser.id), eq(outbox.state, "pending")))
		.for("update");
	await moveAndRenumberMessages(work.tx, survivor.id, loser.id);
	for (const table of [webSessions, media, ticketEvents, linkTokens, outbox])
		await work.tx.update(table).set(move).where(eq(table.customerId, loser.id));
	await syncOutboxHeads(work.tx, [survivor.id, loser.id]);
	const live = lastActive(loser) > lastActive(survivor) ? loser : survivor;
	await mergeTimers(work, survivor, loser, live);
	if (loser.topicId != null && survivor.topicId != null) {
		await work.enqueue(survivor.id, {
			kind: "topic_notice",
			text: "noticeMergedInto",
			topicId: loser.topicId,
		});
		await work.enqueue(survivor.id, { kind: "topic_notice", text: "noticeMergedFrom" });
	}
	// Free the unique Telegram identity before the survivor takes it over.
	await work.tx.delete(customers).where(eq(customers.id, loser.id));
	const keep: Partial<CustomerRow> = {};
	if (!survivor.phone && loser.phone) keep.phone = loser.phone;
	if (!survivor.sourceUrl && loser.sourceUrl) keep.sourceUrl = loser.sourceUrl;
	if (!survivor.city && loser.city) keep.city = loser.city;
	// The ticket someone owned stays theirs when the other side had nobody.
	if (survivor.assigneeId == null && loser.assigneeId != null) keep.assigneeId = loser.assigneeId;
	if (survivor.topicId == null && loser.topicId != null) {
		keep.topicId = loser.topicId;
		keep.cardMessageId = loser.cardMessageId;
	}
	if (live === loser && loser.status !== survivor.status) keep.status = loser.status;
	if (lastActive(loser) > lastActive(survivor)) keep.lastMessageAt = loser.lastMessageAt;
	if (Object.keys(keep).length)
		await work.tx.update(customers).set(keep).where(eq(customers.id, survivor.id));
}

/**
 * The survivor's timers after the merge. Waiting timers come from the side whose status the
 * merged ticket takes; the SLA clock counts from the oldest unanswered customer message of the
 * merged history (none, or a closed ticket: no clock), and keeps the furthest reminder step
 * either side had reached, so a reminder already sent is not sent again.
 */
async function mergeTimers(
	work: Work,
	survivor: CustomerRow,
	loser: CustomerRow,
	live: CustomerRow,
) {
	const rows = await work.tx
		.select()
		.from(timers)
		.where(inArray(timers.customerId, [survivor.id, loser.id]))
		.for("update");
	await work.tx.delete(timers).where(inArray(timers.customerId, [survivor.id, loser.id]));
	const status = live.status;
	if (status === "WAITING_CLIENT")
		for (const row of rows.filter((r) => r.customerId === live.id && r.kind !== "sla"))
			await work.tx.insert(timers).values({
				customerId: survivor.id,
				kind: row.kind,
				fireAt: row.fireAt,
				step: row.step,
				since: row.since,
				attempts: row.attempts,
				lastError: row.lastError,
				parkedAt: row.parkedAt,
			});
	if (status === "CLOSED") return;
	const since = await oldestUnanswered(work, survivor.id);
	const reminders = work.policy.slaReminders;
	if (!since || reminders.length === 0) return;
	const step = Math.min(
		reminders.length - 1,
		Math.max(0, ...rows.filter((r) => r.kind === "sla").map((r) => r.step)),
	);
	const fireAt = slaFireAt(work.policy, since, step);
	if (!fireAt) return;
	await work.tx
		.insert(timers)
		.values({ customerId: survivor.id, kind: "sla", step, since, fireAt });
	// Counted from the older history, it may fall due before the timer worker next looks.
	work.timersChanged();
}

/** The time of the oldest customer message after the last support reply (merged history). */
async function oldestUnanswered(work: Work, customerId: string): Promise<Date | undefined> {
	const [reply] = await work.tx
		.select({ seq: messages.customerSeq })
		.from(messages)
		.where(and(eq(messages.customerId, customerId), eq(messages.author, "support")))
		.orderBy(desc(messages.customerSeq))
		.limit(1);
	const [first] = await work.tx
		.select({ createdAt: messages.createdAt })
		.from(messages)
		.where(
			and(
				eq(messages.customerId, customerId),
				eq(messages.author, "user"),
				reply ? gt(messages.customerSeq, reply.seq) : sql`true`,
			),
		)
		.orderBy(asc(messages.customerSeq))
		.limit(1);
	return first?.createdAt;
}
