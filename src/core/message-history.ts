/**
 * Paging a customer's messages by their number in the conversation (`customer_seq`, the web's
 * `seq`): history pages and the last number a reconnecting client catches up from. Numbers of one
 * customer commit in increasing order (src/db/functions/messages.sql), so "after the last one I
 * saw" misses nothing.
 */
import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { media, messages } from "../db/schema.ts";
import { isUuid } from "./ids.ts";
import { mediaRefColumns, type StoredMessage, toStored } from "./stored-message.ts";

export interface HistoryQuery {
	limit: number;
	before?: string;
	after?: string;
}

export interface HistoryPage {
	messages: StoredMessage[];
	hasMore: boolean;
	oldestId: string | null;
}

/**
 * Pages a customer's messages by number. Default and `before`: newest first. `after`: everything
 * newer than that message, oldest first, so a reconnecting client catches up without gaps.
 * A cursor that is not one of this customer's messages (a client's temporary id, a guess, another
 * customer's message) answers an empty page, as the existing widget expects: never
 * another customer's data, and nothing that tells whether such a message exists.
 */
export async function readHistory(
	database: Database,
	customerId: string,
	query: HistoryQuery,
): Promise<HistoryPage> {
	const cursorId = query.after ?? query.before;
	let cursorSeq: number | undefined;
	if (cursorId) {
		const [cursor] = isUuid(cursorId)
			? await database.db
					.select({ seq: messages.customerSeq })
					.from(messages)
					.where(and(eq(messages.id, cursorId), eq(messages.customerId, customerId)))
					.limit(1)
			: [];
		if (!cursor) return { messages: [], hasMore: false, oldestId: null };
		cursorSeq = Number(cursor.seq);
	}
	const own = eq(messages.customerId, customerId);
	if (query.after !== undefined && cursorSeq !== undefined) {
		const rows = await database.db
			.select({ message: messages, media: mediaRefColumns })
			.from(messages)
			.leftJoin(media, eq(media.id, messages.mediaId))
			.where(and(own, gt(messages.customerSeq, cursorSeq)))
			.orderBy(asc(messages.customerSeq))
			// Capped like every page: a client catching up asks again after the last one it got.
			.limit(query.limit + 1);
		const list = rows.slice(0, query.limit).map((row) => toStored(row.message, row.media));
		return { messages: list, hasMore: rows.length > query.limit, oldestId: list[0]?.id ?? null };
	}
	const rows = await database.db
		.select({ message: messages, media: mediaRefColumns })
		.from(messages)
		.leftJoin(media, eq(media.id, messages.mediaId))
		.where(cursorSeq !== undefined ? and(own, lt(messages.customerSeq, cursorSeq)) : own)
		.orderBy(desc(messages.customerSeq))
		.limit(query.limit + 1);
	const hasMore = rows.length > query.limit;
	const list = rows.slice(0, query.limit).map((row) => toStored(row.message, row.media));
	return { messages: list, hasMore, oldestId: list.at(-1)?.id ?? null };
}

/** The highest number of a customer's messages (0 when none), the `connected` frame's `lastSeq`. */
export async function lastSeq(database: Database, customerId: string): Promise<number> {
	const rows = await database.query<{ seq: string | number | null }>(
		sql`select max(customer_seq) as seq from messages where customer_id = ${customerId}`,
	);
	return Number(rows[0]?.seq ?? 0);
}
