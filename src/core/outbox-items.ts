/**
 * What the core can owe Telegram. Each item is a row in `outbox`, written in the transaction
 * that caused it; the Telegram door's worker knows how to deliver each kind.
 */
import type { TextKey } from "../i18n/en.ts";

export type OutboxItem =
	/** A stored customer message, to appear in the customer's topic (created first if needed). */
	| { kind: "topic_message"; messageId: string }
	/**
	 * A notice for operators in the topic, rendered from the text catalogue at delivery. Skipped
	 * when the customer has no topic yet: there is no conversation to annotate.
	 */
	| { kind: "topic_notice"; text: TextKey; vars?: Record<string, string | number> };

export type OutboxKind = OutboxItem["kind"];
