/**
 * Messages: accepting a customer's message, recording an operator's, and paging history by `seq`.
 */
import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import {
	type Author,
	type Channel,
	customers,
	type MediaKind,
	media,
	messages,
} from "../db/schema.ts";
import { AppError } from "./errors.ts";
import { fastAcceptMessage } from "./fast-accept.ts";
import { changeStatus } from "./status.ts";
import { armSla } from "./timers.ts";
import { type CoreDeps, commit, type Work } from "./unit-of-work.ts";

/** A message's attachment, without its bytes. */
export interface MediaRef {
	id: string;
	kind: MediaKind;
	mimeType: string;
	fileName: string | null;
	size: number;
	duration: number | null;
	/** Set when retention deleted the file: history shows a "file expired" stub. */
	expiredAt?: Date | string | null;
}

/** The serialisable form of a message, as events and history carry it. */
export interface StoredMessage {
	id: string;
	seq: number;
	customerId: string;
	author: Author;
	channel: Channel;
	text: string;
	replyToId: string | null;
	clientMessageId: string | null;
	createdAt: string;
	editedAt: string | null;
	media: MediaRef | null;
}

type MessageRow = typeof messages.$inferSelect;
type MediaRow = Pick<typeof media.$inferSelect, Exclude<keyof MediaRef, "expiredAt">> & {
	expiredAt?: Date | string | null;
};

/** The columns of `media` a MediaRef needs (never the bytes). */
export const mediaRefColumns = {
	id: media.id,
	kind: media.kind,
	mimeType: media.mimeType,
	fileName: media.fileName,
	size: media.size,
	duration: media.duration,
	expiredAt: media.expiredAt,
};

export function toStored(row: MessageRow, attachment?: MediaRow | null): StoredMessage {
	return {
		id: row.id,
		seq: Number(row.seq),
		customerId: row.customerId,
		author: row.author,
		channel: row.channel,
		text: row.text,
		replyToId: row.replyToId,
		clientMessageId: row.clientMessageId,
		createdAt: row.createdAt.toISOString(),
		editedAt: row.editedAt ? row.editedAt.toISOString() : null,
		media: attachment ? { ...attachment } : null,
	};
}

export const MAX_TEXT = 4000;

/** Validates customer text the same way for HTTP and WebSocket. */
export function checkText(text: unknown): string {
	if (typeof text !== "string" || text.trim() === "")
		throw new AppError("INVALID_MESSAGE", "Message text must be a non-empty string.");
	if (text.length > MAX_TEXT)
		throw new AppError("MESSAGE_TOO_LONG", `Message text is longer than ${MAX_TEXT} characters.`);
	return text;
}

export interface CustomerMessageInput {
	customerId: string;
	channel: Channel;
	text: string;
	clientMessageId?: string;
	replyTo?: string;
}

/**
 * Writes a customer's message (any channel) with what follows from it: the customer's last
 * activity, a reopened or resumed ticket, the copy owed to the topic and the echo to sockets.
 * `fast-accept.ts` does the same for the common web case in one statement: a new effect here
 * must be added there too (the flow and timer tests exercise both paths).
 */
export async function recordCustomerMessage(
	work: Work,
	input: CustomerMessageInput & { mediaId?: string; entities?: unknown },
	attachment?: MediaRef,
): Promise<StoredMessage> {
	const [row] = await work.tx
		.insert(messages)
		.values({
			customerId: input.customerId,
			author: "user",
			channel: input.channel,
			text: input.text,
			mediaId: input.mediaId ?? null,
			entities: input.entities ?? null,
			replyToId: input.replyTo ?? null,
			clientMessageId: input.clientMessageId ?? null,
		})
		.returning();
	if (!row) throw new Error("message insert returned nothing");
	const [customer] = await work.tx
		.update(customers)
		.set({ lastMessageAt: row.createdAt })
		.where(eq(customers.id, input.customerId))
		.returning({ status: customers.status });
	// The customer writing again reopens a closed ticket (before the message is copied, so the
	// notice comes first in the topic) and takes a waiting one back in progress.
	if (customer?.status === "CLOSED") await changeStatus(work, input.customerId, "NEW", "customer");
	if (customer?.status === "WAITING_CLIENT")
		await changeStatus(work, input.customerId, "IN_PROGRESS", "customer");
	await work.enqueue(input.customerId, { kind: "topic_message", messageId: row.id });
	await armSla(work, input.customerId, row.createdAt);
	const message = toStored(row, attachment);
	work.emit(input.customerId, { type: "message", message });
	return message;
}

export interface Accepted {
	message: StoredMessage;
	/** True when `clientMessageId` named a message already stored: nothing new happened. */
	duplicate: boolean;
}

async function byClientId(tx: Tx | Database["db"], customerId: string, clientMessageId: string) {
	const [row] = await tx
		.select()
		.from(messages)
		.where(and(eq(messages.customerId, customerId), eq(messages.clientMessageId, clientMessageId)))
		.limit(1);
	return row;
}

/**
 * Stores a customer's message, owes its copy to the topic and echoes it to the customer's
 * sockets, all after one commit. A repeated `clientMessageId` returns the stored message again.
 */
export async function acceptCustomerMessage(
	deps: CoreDeps,
	input: CustomerMessageInput,
): Promise<Accepted> {
	const text = checkText(input.text);
	const fast = await fastAcceptMessage(deps, input, text);
	if (fast) return { message: fast, duplicate: false };
	try {
		return await commit(deps, async (work) => {
			if (input.clientMessageId) {
				const existing = await byClientId(work.tx, input.customerId, input.clientMessageId);
				if (existing) return { message: toStored(existing), duplicate: true };
			}
			if (input.replyTo) await assertOwnMessage(work.tx, input.customerId, input.replyTo);
			const message = await recordCustomerMessage(work, { ...input, text });
			return { message, duplicate: false };
		});
	} catch (error) {
		// Two retries racing with one clientMessageId: the loser returns the winner's message.
		if (input.clientMessageId && isUniqueViolation(error)) {
			const existing = await byClientId(deps.database.db, input.customerId, input.clientMessageId);
			if (existing) return { message: toStored(existing), duplicate: true };
		}
		throw error;
	}
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function assertOwnMessage(tx: Tx, customerId: string, id: string) {
	const found =
		UUID.test(id) &&
		(
			await tx
				.select({ id: messages.id })
				.from(messages)
				.where(and(eq(messages.id, id), eq(messages.customerId, customerId)))
				.limit(1)
		).length > 0;
	if (!found)
		throw new AppError("INVALID_MESSAGE", "replyTo does not name a message of this conversation.");
}

export function isUniqueViolation(error: unknown): boolean {
	for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
		if ((e as { code?: unknown }).code === "23505") return true;
	}
	return false;
}

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
 * Pages a customer's messages by `seq`. Default and `before`: newest first. `after`: everything
 * newer than that message, oldest first, so a reconnecting client catches up without gaps.
 * A cursor that is not one of this customer's messages (a client's temporary id, a guess, another
 * customer's message) answers an empty page, as the existing widget expects (SPEC §4.2): never
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
		const [cursor] = UUID.test(cursorId)
			? await database.db
					.select({ seq: messages.seq })
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
			.where(and(own, gt(messages.seq, cursorSeq)))
			.orderBy(asc(messages.seq))
			// Capped like every page: a client catching up asks again after the last one it got.
			.limit(query.limit + 1);
		const list = rows.slice(0, query.limit).map((row) => toStored(row.message, row.media));
		return { messages: list, hasMore: rows.length > query.limit, oldestId: list[0]?.id ?? null };
	}
	const rows = await database.db
		.select({ message: messages, media: mediaRefColumns })
		.from(messages)
		.leftJoin(media, eq(media.id, messages.mediaId))
		.where(cursorSeq !== undefined ? and(own, lt(messages.seq, cursorSeq)) : own)
		.orderBy(desc(messages.seq))
		.limit(query.limit + 1);
	const hasMore = rows.length > query.limit;
	const list = rows.slice(0, query.limit).map((row) => toStored(row.message, row.media));
	return { messages: list, hasMore, oldestId: list.at(-1)?.id ?? null };
}

/** The highest `seq` of a customer's messages (0 when none), for the `connected` frame. */
export async function lastSeq(database: Database, customerId: string): Promise<number> {
	const rows = await database.query<{ seq: string | number | null }>(
		sql`select max(seq) as seq from messages where customer_id = ${customerId}`,
	);
	return Number(rows[0]?.seq ?? 0);
}
