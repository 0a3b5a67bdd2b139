/**
 * Where a stored message lives in Telegram (`message_copies`): found to thread replies and edits,
 * recorded in the same transaction that completes the outbox item that made the copy.
 */
import { and, eq } from "drizzle-orm";
import type { TelegramMessageEntity } from "gramio";
import type { Database, Tx } from "../db/client.ts";
import { type CopyKind, messageCopies, webSessions } from "../db/schema.ts";

export async function copyIdOf(
	database: Database,
	messageId: string | null | undefined,
	kind: CopyKind,
): Promise<number | undefined> {
	if (!messageId) return undefined;
	const [copy] = await database.db
		.select({ id: messageCopies.telegramMessageId })
		.from(messageCopies)
		.where(and(eq(messageCopies.messageId, messageId), eq(messageCopies.kind, kind)))
		.limit(1);
	return copy?.id ?? undefined;
}

export async function recordCopy(
	tx: Tx,
	copy: {
		messageId: string;
		kind: CopyKind;
		chatId: number;
		telegramMessageId: number | null;
		error?: string;
	},
) {
	const state = copy.error ? ("failed" as const) : ("delivered" as const);
	await tx
		.insert(messageCopies)
		.values({ ...copy, state, error: copy.error ?? null })
		.onConflictDoUpdate({
			target: [messageCopies.messageId, messageCopies.kind],
			set: { telegramMessageId: copy.telegramMessageId, state, error: copy.error ?? null },
		});
}

/** A reply to an earlier message, when that message has a copy in the same chat. */
export function replyTo(telegramMessageId: number | undefined) {
	return telegramMessageId === undefined
		? {}
		: { reply_parameters: { message_id: telegramMessageId, allow_sending_without_reply: true } };
}

export async function customerHasWeb(database: Database, customerId: string): Promise<boolean> {
	const [row] = await database.db
		.select({ id: webSessions.id })
		.from(webSessions)
		.where(eq(webSessions.customerId, customerId))
		.limit(1);
	return Boolean(row);
}

/** Entities shifted right by a prefix, so formatting survives `[TG] ` in front of a text. */
export function shiftEntities(entities: unknown, by: number): TelegramMessageEntity[] | undefined {
	if (!Array.isArray(entities) || entities.length === 0) return undefined;
	return (entities as TelegramMessageEntity[]).map((entity) => ({
		...entity,
		offset: entity.offset + by,
	}));
}

/** Telegram's limits, in UTF-16 code units as Telegram counts them. */
export const TEXT_MAX = 4096;
export const CAPTION_MAX = 1024;

/**
 * Cuts a text into pieces of at most `max` characters, in order, preferring to cut after a line
 * break, then after a space, and never inside a surrogate pair; the pieces joined give the text
 * back. Returns the offset of each piece too, so entities can follow (`entitiesIn`).
 *
 * @example splitText("a".repeat(5000), 4096).map((p) => p.text.length) // [4096, 904]
 */
export function splitText(text: string, max: number): { text: string; offset: number }[] {
	const pieces: { text: string; offset: number }[] = [];
	let start = 0;
	while (text.length - start > max) {
		let end = start + max;
		const window = text.slice(start, end);
		const newline = window.lastIndexOf("\n");
		const space = window.lastIndexOf(" ");
		// A natural break in the second half of the window is worth the shorter piece.
		if (newline >= max / 2) end = start + newline + 1;
		else if (space >= max / 2) end = start + space + 1;
		const code = text.charCodeAt(end - 1);
		if (code >= 0xd800 && code <= 0xdbff) end -= 1;
		pieces.push({ text: text.slice(start, end), offset: start });
		start = end;
	}
	pieces.push({ text: text.slice(start), offset: start });
	return pieces;
}

/** The entities that fall into `[offset, offset + length)`, clipped and shifted to start at 0. */
export function entitiesIn(
	entities: TelegramMessageEntity[] | undefined,
	offset: number,
	length: number,
): TelegramMessageEntity[] | undefined {
	if (!entities) return undefined;
	const inside = entities.flatMap((entity) => {
		const from = Math.max(entity.offset, offset);
		const to = Math.min(entity.offset + entity.length, offset + length);
		return to > from ? [{ ...entity, offset: from - offset, length: to - from }] : [];
	});
	return inside.length > 0 ? inside : undefined;
}
