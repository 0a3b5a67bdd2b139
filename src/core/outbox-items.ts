/**
 * What the core can owe Telegram. Each item is a row in `outbox`, written in the transaction
 * that caused it; the Telegram door's worker knows how to deliver each kind.
 */
export type OutboxItem =
	/** A stored customer message, to appear in the customer's topic (created first if needed). */
	{ kind: "topic_message"; messageId: string };

export type OutboxKind = OutboxItem["kind"];
