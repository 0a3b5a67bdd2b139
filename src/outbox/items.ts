/**
 * What the core can owe Telegram. Each item is a row in `outbox`, written in the transaction
 * that caused it (enqueue.ts); the worker hands each kind to the handler the Telegram door gave
 * it. Items name stored facts (a message id, the customer) rather than carry rendered text where
 * they can, so what is sent reflects the state at delivery (a card is never sent stale).
 */
import type { TextKey } from "../i18n/en.ts";

export type Vars = Record<string, string | number>;

/** Reply keyboards the bot attaches to its own DM texts. */
export type DmKeyboard = "phone" | "remove" | "rating";

export type OutboxItem =
	/** A customer's message, into their topic (created with its card first if needed). */
	| { kind: "topic_message"; messageId: string }
	/**
	 * A notice for operators in the topic, rendered at delivery. Skipped when the customer has no
	 * topic yet. `topicId` addresses a topic that is no longer the customer's (after a merge);
	 * `{topicLink}` in the text is the link to the customer's current topic. `groupId`: the group
	 * of that `topicId` when it is not the customer's (after a move).
	 */
	| { kind: "topic_notice"; text: TextKey; vars?: Vars; topicId?: number; groupId?: number }
	/**
	 * Text already rendered for operators (command answers such as /history). `open`: the topic
	 * is created (with its card) when the customer has none, as for a customer moved to a group.
	 */
	| { kind: "topic_text"; text: string; open?: boolean }
	/** The customer edited a message in the DM: its copy in the topic follows. */
	| { kind: "topic_edit"; messageId: string }
	/** The topic's name follows the customer's name (linking, merging). */
	| { kind: "topic_rename" }
	/** The pinned card shows the current state (status, phone, channels…). */
	| { kind: "card" }
	/**
	 * Pins the card (`cardMessageId`) once the group is idle (`card.pin` "when-idle"); a pin that
	 * finds the customer's own items queued behind it makes way for them.
	 */
	| { kind: "card_pin"; cardMessageId: number }
	/** A text from the bot to the customer's private chat, in the customer's language. */
	| { kind: "dm_text"; text: TextKey; vars?: Vars; keyboard?: DmKeyboard }
	/** An operator's message, copied into the customer's private chat. */
	| { kind: "dm_message"; messageId: string }
	/** An operator edited a delivered message: the DM copy follows. */
	| { kind: "dm_edit"; messageId: string }
	/** After linking: the conversation so far, so the customer sees it in Telegram too. */
	| { kind: "dm_digest" }
	/**
	 * An SLA reminder in the topic, mentioning the ticket's `assignee` (a Telegram user id), else
	 * the group's human admins; the `breach` (last one) also sends them a link to the topic.
	 */
	| { kind: "sla_reminder"; waitedMs: number; breach: boolean; assignee?: number }
	/**
	 * A notice for operators in the support group's General topic (no thread), about no one
	 * customer: its outbox row has no customer (a Telegram update set aside). `groupId`: the
	 * support group it is for (absent: the default group).
	 */
	| { kind: "group_notice"; text: TextKey; vars?: Vars; groupId?: number }
	/** Text already rendered, for the General topic (a command's answer there, e.g. /stats). */
	| { kind: "group_text"; text: string; groupId?: number };

export type OutboxKind = OutboxItem["kind"];

/**
 * The queue of notices about no one customer (`group_notice`): the nil UUID in `outbox_heads`,
 * so they keep their order among themselves and never hold up a customer.
 */
export const NO_CUSTOMER_QUEUE = "00000000-0000-0000-0000-000000000000";

/** An item owed, with the customer whose queue it joins (null: `NO_CUSTOMER_QUEUE`). */
export interface OwedItem {
	customerId: string | null;
	item: OutboxItem;
}

/**
 * Items that render the customer's current state when delivered (card edits, renames) are
 * wanted once per queue, however many changes in one transaction owe them: the first stands for
 * the rest. Everything else is kept, in order.
 */
export function withoutRepeats(owed: readonly OwedItem[]): OwedItem[] {
	const seen = new Set<string>();
	return owed.filter(({ customerId, item }) => {
		if (item.kind !== "card" && item.kind !== "topic_rename") return true;
		const key = `${customerId}/${item.kind}`;
		if (seen.has(key)) return false;
		seen.add(key);
		return true;
	});
}
