/**
 * The contract between the outbox worker and whoever delivers its items (the Telegram door's
 * handlers, one per item kind): what a handler is given, how it reports what it did, and how a
 * failure is classified. The outbox owns these types so that it never imports a door.
 */
import type { Tx } from "../db/client.ts";
import type { CopyKind, messages } from "../db/schema.ts";

type MessageRow = typeof messages.$inferSelect;

/** Which chat an item's calls go to: the support group, or a customer's private chat. */
export type Target = "group" | "dm";

export interface ClaimedItem {
	id: number;
	customerId: string;
	kind: string;
	payload: Record<string, unknown>;
	attempts: number;
	/**
	 * The key of the support group its queue writes to (`outbox_heads.group_id`: 0 for the
	 * default group), when the claim read it.
	 */
	groupKey?: number;
	/**
	 * `topic_message`: the message (null when it is gone) and its customer's chat, topic and card,
	 * read by the claim itself, so delivery needs no further read in the common case.
	 */
	prefetched?: {
		message: MessageRow | null;
		chatId?: number | null;
		topicId?: number | null;
		cardMessageId?: number | null;
	};
}

/** Where a delivered message now lives in Telegram (a `message_copies` row). */
export interface DeliveredCopy {
	messageId: string;
	kind: CopyKind;
	chatId: number;
	telegramMessageId: number;
}

/** A topic's card was posted: the customer's row records it (`customers.card_message_id`). */
export interface DeliveredCard {
	customerId: string;
	topicId: number;
	cardMessageId: number;
}

export interface OutboxHandlerContext {
	item: ClaimedItem;
	/**
	 * Its queue had no other pending item when it was claimed (but perhaps a pin, which waits for
	 * an idle group): a handler that stands for the items queued behind it (a card edit for later
	 * ones) need not look for them.
	 */
	alone: boolean;
	/**
	 * Nothing waits for the support group now but this delivery: nothing else queued for its
	 * customer, no other group delivery in flight or left unclaimed, and budget to spare beyond
	 * what the next new ticket needs. What waits for an idle group (a pin) may then go at once.
	 */
	groupIdle(): boolean;
	/**
	 * The delivery filed work that waits for an idle group (a pin): the worker claims it once
	 * nothing is in flight, rather than at once (a claim now could not take it).
	 */
	filedForIdle(): void;
	/** Marks the item done inside the handler's own final transaction (no resend after a crash). */
	complete(tx: Tx): Promise<void>;
	/**
	 * Records the copies a delivery made (and the card it posted, if any) and marks the item (and
	 * any `alsoDone` items it carried) done, in one statement: the cheapest way to finish.
	 */
	finish(copies: DeliveredCopy[], alsoDone?: number[], card?: DeliveredCard): Promise<void>;
}

/** Delivers one item; throws what the delivery threw when it fails. */
export type OutboxHandler = (context: OutboxHandlerContext) => Promise<void>;

/**
 * What a failed delivery means for its item: `flood` waits the given time, `transient` (the
 * other side did not answer) backs off and counts against the target's breaker, `permanent`
 * will fail the same way again, so the item is dead.
 */
export type DeliveryFailure =
	| { kind: "flood"; retryAfterMs: number; description: string }
	| { kind: "transient"; description: string }
	/** `quiet`: no notice in the topic (it could not be delivered either: the group is gone). */
	| { kind: "permanent"; code: number; description: string; quiet?: boolean };

/** Turns what a handler threw into a `DeliveryFailure` (the Telegram door's `classifyFailure`). */
export type ClassifyFailure = (error: unknown) => DeliveryFailure;

/** Without a classifier every failure is worth another try. */
export const retryEverything: ClassifyFailure = (error) => ({
	kind: "transient",
	description: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
});
