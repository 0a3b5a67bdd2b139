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
