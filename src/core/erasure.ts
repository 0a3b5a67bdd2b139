/**
 * Erasure of one customer's data (`/erase`): web sessions, messages (with their
 * Telegram copies' records), files, link tokens, timers, queued Telegram work (delivered and
 * dead items too), the ticket's log and the Telegram updates set aside that came from the person
 * or from their topic (with the General topic's notices about them) are deleted; the customer row
 * stays as an anonymous tombstone that keeps the topic, so the topic gets its notice and a new
 * conversation from the same person starts a new customer (the tombstone has no Telegram id and no
 * sessions to be found by). After the commit, `scrubErasure` clears the deleted rows' bytes from
 * the database's files.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import {
	customers,
	failedUpdates,
	linkTokens,
	media,
	messages,
	outbox,
	settings,
	ticketEvents,
	timers,
	webSessions,
} from "../db/schema.ts";
import { type ScrubOutcome, scrubTables } from "../db/scrub.ts";
import { lockOutboxHeads, syncOutboxHeads } from "../outbox/admin.ts";
import type { Work } from "./unit-of-work.ts";

export interface ErasureResult {
	messages: number;
	files: number;
	sessions: number;
	/** Telegram updates set aside as failed that came from the person or their topic. */
	setAside: number;
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
		.select({ id: customers.id, userId: customers.telegramUserId, topicId: customers.topicId })
		.from(customers)
		.where(eq(customers.id, customerId))
		.for("update");
	if (!locked) return null;
	const { tx } = work;
	const setAside = await deleteSetAside(work, locked.userId, locked.topicId);
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
	const queues = setAside.length > 0 ? [customerId, null] : [customerId];
	// Whatever this transaction owed the customer is deleted with their other items.
	await work.fileOwed();
	await lockOutboxHeads(tx, queues);
	await tx.delete(outbox).where(eq(outbox.customerId, customerId));
	// The General topic's notices about those updates name the chat they came from.
	if (setAside.length > 0)
		await tx.execute(sql`delete from outbox where customer_id is null and kind = 'group_notice'
			and payload->'vars'->>'updateId' = any(${`{${setAside.join(",")}}`}::text[])`);
	await syncOutboxHeads(tx, queues);
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
	const result = { messages: erasedMessages, files, sessions, setAside: setAside.length };
	await oweScrub(work, touchedTables(result));
	return result;
}

/**
 * Deletes the updates set aside as failed that the person sent (their id anywhere in it, as the
 * sender or the private chat) or that were written in their topic; returns their update ids.
 */
async function deleteSetAside(work: Work, userId: number | null, topicId: number | null) {
	if (userId === null && topicId === null) return [];
	const gone = await work.tx
		.delete(failedUpdates)
		.where(sql`(${userId}::bigint is not null and jsonb_path_exists(${failedUpdates.update},
				'$.** ? (@.id == $user)', jsonb_build_object('user', ${userId}::bigint)))
			or (${topicId}::int is not null and jsonb_path_exists(${failedUpdates.update},
				'$.** ? (@.message_thread_id == $topic && @.chat.id < 0)',
				jsonb_build_object('topic', ${topicId}::int)))`)
		.returning({ id: failedUpdates.updateId });
	return gone.map((row) => row.id);
}

/** The tables an erasure leaves dead rows in, for the scrub: the customer's row is always one. */
function touchedTables(result: ErasureResult): string[] {
	const tables = ["customers", "web_sessions", "link_tokens", "outbox", "ticket_events"];
	if (result.messages > 0) tables.push("messages", "message_copies");
	if (result.files > 0) tables.push("media");
	if (result.setAside > 0) tables.push("failed_updates");
	return tables;
}

/**
 * The tables whose files still hold erased rows, kept in `settings` with the erasure itself: a
 * scrub that failed, or never ran because the process stopped, is owed until one succeeds.
 */
const SCRUB_OWED = "erasure.scrub_owed";

async function oweScrub(work: Work, tables: readonly string[]) {
	await work.tx.execute(sql`insert into settings (key, value) values (${SCRUB_OWED}, ${tables.join(",")})
		on conflict (key) do update set updated_at = now(), value = (
			select string_agg(distinct name, ',' order by name)
			from unnest(string_to_array(settings.value || ',' || excluded.value, ',')) as name)`);
}

/**
 * After an erasure's commit: rewrites the tables erasures left dead rows in (this one's and any
 * owed by an earlier one) and renews the write-ahead log the service controls (db/scrub.ts), so
 * the deleted rows' bytes are gone from the database's files. Runs outside any transaction; may
 * take as long as rewriting those tables does.
 */
export async function scrubErasure(database: Database): Promise<ScrubOutcome> {
	const [owed] = await database.db
		.select({ value: settings.value })
		.from(settings)
		.where(eq(settings.key, SCRUB_OWED));
	if (!owed) return { complete: true, problems: [], notes: [] };
	const outcome = await scrubTables(database, owed.value.split(","));
	// Only what this scrub covered: an erasure committed meanwhile still owes its own.
	if (outcome.complete)
		await database.db
			.delete(settings)
			.where(and(eq(settings.key, SCRUB_OWED), eq(settings.value, owed.value)));
	return outcome;
}
