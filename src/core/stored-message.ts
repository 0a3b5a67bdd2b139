/**
 * The message record: what a stored message looks like to the rest of the service (events,
 * history, the wire), and how a database row becomes it. Commands that write messages live in
 * `messages.ts`; this module only describes and converts, so everything may depend on it.
 */
import type { Author, Channel, MediaKind, messages } from "../db/schema.ts";
import { media } from "../db/schema.ts";

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
	/**
	 * The message's number in its customer's conversation (1, 2, 3, …; `messages.customer_seq`),
	 * never the desk-wide `messages.seq`: this record reaches the web as it is.
	 */
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

/** A `messages` row (and its attachment, if any) as the serialisable record. */
export function toStored(row: MessageRow, attachment?: MediaRow | null): StoredMessage {
	return {
		id: row.id,
		seq: Number(row.customerSeq),
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

/** A customer's message to store, from either door. */
export interface CustomerMessageInput {
	customerId: string;
	channel: Channel;
	text: string;
	/** The client's own id of the message: a repeat returns the stored message (`duplicate`). */
	clientMessageId?: string;
	/** A message of the same customer this one answers. */
	replyTo?: string;
	/** Telegram formatting of the text, as received. */
	entities?: unknown;
	/** The attachment, already stored in `media`. */
	attachment?: MediaRef;
	/**
	 * The daily cap on new conversations of the client when this message may open one
	 * (a web customer not yet known to have written): spent in the same transaction that stores
	 * it, or nothing stored (`refused`). Absent: not checked.
	 */
	openingLimit?: number;
}

/** What became of a customer's message. */
export type RecordedMessage =
	/** Stored now, or (`duplicate`) already stored under the same `clientMessageId`. */
	| { kind: "stored"; message: StoredMessage; duplicate: boolean }
	/** It would open a conversation over the client's daily cap: nothing stored. */
	| { kind: "refused" }
	/** Its customer's row was held by another transaction and the caller asked not to wait. */
	| { kind: "held" };
