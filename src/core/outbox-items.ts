/**
 * What the core can owe Telegram. Each item is a row in `outbox`, written in the transaction
 * that caused it; the Telegram door's worker knows how to deliver each kind. Items name stored
 * facts (a message id, the customer) rather than carry rendered text where they can, so what is
 * sent reflects the state at delivery (a card is never sent stale).
 */
import { arrayLiteral, quotedArrayLiteral } from "../db/raw-sql.ts";
import type { messages } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import { outboxRouting } from "./outbox-routing.ts";

export type Vars = Record<string, string | number>;

/** Reply keyboards the bot attaches to its own DM texts. */
export type DmKeyboard = "phone" | "remove" | "rating";

export type OutboxItem =
	/** A customer's message, into their topic (created with its card first if needed). */
	| { kind: "topic_message"; messageId: string }
	/**
	 * A notice for operators in the topic, rendered at delivery. Skipped when the customer has no
	 * topic yet. `topicId` addresses a topic that is no longer the customer's (after a merge);
	 * `{topicLink}` in the text is the link to the customer's current topic.
	 */
	| { kind: "topic_notice"; text: TextKey; vars?: Vars; topicId?: number }
	/** Text already rendered for operators (command answers such as /history). */
	| { kind: "topic_text"; text: string }
	/** The customer edited a message in the DM: its copy in the topic follows. */
	| { kind: "topic_edit"; messageId: string }
	/** The topic's name follows the customer's name (linking, merging). */
	| { kind: "topic_rename" }
	/** The pinned card shows the current state (status, phone, channels…). */
	| { kind: "card" }
	/** A text from the bot to the customer's private chat, in the customer's language. */
	| { kind: "dm_text"; text: TextKey; vars?: Vars; keyboard?: DmKeyboard }
	/** An operator's message, copied into the customer's private chat. */
	| { kind: "dm_message"; messageId: string }
	/** An operator edited a delivered message: the DM copy follows. */
	| { kind: "dm_edit"; messageId: string }
	/** After linking: the conversation so far, so the customer sees it in Telegram too. */
	| { kind: "dm_digest" }
	/**
	 * An SLA reminder in the topic, mentioning the group's human admins; the `breach` (last one)
	 * also sends each admin a link to the topic.
	 */
	| { kind: "sla_reminder"; waitedMs: number; breach: boolean }
	/**
	 * A notice for operators in the support group's General topic (no thread), about no one
	 * customer: its outbox row has no customer (a Telegram update set aside, issue 9).
	 */
	| { kind: "group_notice"; text: TextKey; vars?: Vars };

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
 * Files items, in the order given, and makes the first of each idle queue its head, in one
 * statement of the caller's transaction. The upsert locks the head rows (in key order) even when
 * it changes nothing, so a finish of the same queue (which locks the head first) waits for this
 * commit and then sees the item. Parameters, one array element per item: customer id (or null),
 * kind, payload as JSON text, target, priority.
 */
export const ENQUEUE_SQL = `with i as (
	select * from unnest($1::text::uuid[], $2::text::text[], $3::text::text[], $4::text::text[],
		$5::text::int[]) with ordinality as i(customer_id, kind, payload, target, priority, n)
), o as (
	insert into outbox (customer_id, kind, payload, target, priority)
	select customer_id, kind, payload::jsonb, target, priority from i order by n
	returning id, customer_id, target, priority, next_attempt_at
)
insert into outbox_heads as h (customer_id, head_id, target, priority, ready_at)
select distinct on (queue) queue, id, target, priority, next_attempt_at
from (select coalesce(customer_id, '${NO_CUSTOMER_QUEUE}'::uuid) as queue, * from o) o
order by queue, id
on conflict (customer_id) do update set head_id = excluded.head_id, target = excluded.target,
	priority = excluded.priority, ready_at = excluded.ready_at
where h.head_id is null`;

/** The parameters of ENQUEUE_SQL for these items. */
export function enqueueParams(owed: readonly OwedItem[]) {
	const routed = owed.map(({ customerId, item }) => {
		const { kind, ...payload } = item;
		return { customerId, kind, payload: JSON.stringify(payload), ...outboxRouting(kind) };
	});
	return [
		quotedArrayLiteral(routed.map((entry) => entry.customerId)),
		quotedArrayLiteral(routed.map((entry) => entry.kind)),
		quotedArrayLiteral(routed.map((entry) => entry.payload)),
		quotedArrayLiteral(routed.map((entry) => entry.target)),
		arrayLiteral(routed.map((entry) => entry.priority)),
	] as const;
}

/**
 * A customer's topic copy that its accept statement leased to this instance's worker at once
 * (README "hand-off"): it became the head of an idle queue, so the worker delivers it without a
 * claim. Carries what a claim would have read.
 */
export interface HandedOffItem {
	id: number;
	customerId: string;
	message: typeof messages.$inferSelect;
	chatId: number | null;
	topicId: number | null;
	cardMessageId: number | null;
}

/** A place in the worker taken for one hand-off; settled by exactly one `deliver` or `cancel`. */
export interface HandOffReservation {
	/** The lease end (ISO) to file the copy with. */
	lease: string;
	deliver(item: HandedOffItem): void;
	cancel(): void;
}

/** The outbox worker's side of the hand-off. */
export interface OutboxHandOff {
	/** A reservation when the worker can take one more group item now, else null. */
	reserve(): HandOffReservation | null;
	/** The item was leased but another item became its queue's head first: lease given back. */
	giveBack(itemId: number): Promise<void>;
}
