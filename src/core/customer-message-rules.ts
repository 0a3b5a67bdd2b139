/**
 * What a customer's message does, whichever path stores it. `recordCustomerMessage` (any
 * channel, inside a transaction) and the web hot path `fast-accept.ts` (one statement) both take
 * their rules from here, so they cannot drift apart; tests/core/accept-paths.test.ts runs the
 * same inputs through both and compares the rows written.
 */
import { type Channel, type TicketStatus, ticketStatuses } from "../db/schema.ts";
import type { OutboxItem } from "../outbox/items.ts";

export interface CustomerMessageInput {
	customerId: string;
	channel: Channel;
	text: string;
	clientMessageId?: string;
	replyTo?: string;
	/**
	 * The daily cap on new conversations of the client (SPEC §4.5) when this message may open one
	 * (a web customer not yet known to have written): spent in the statement that stores it, or
	 * 429 `QUOTA_EXCEEDED` and nothing stored. Absent: not checked.
	 */
	openingLimit?: number;
}

/**
 * The customer writing again reopens a closed ticket and takes a waiting one back in progress;
 * other statuses stay as they are.
 */
export const statusAfterCustomerMessage: Partial<Record<TicketStatus, TicketStatus>> = {
	CLOSED: "NEW",
	WAITING_CLIENT: "IN_PROGRESS",
};

/** Statuses a customer's message leaves alone: the only ones the hot path may store for. */
export const statusesKeptByCustomerMessage: readonly TicketStatus[] = ticketStatuses.filter(
	(status) => statusAfterCustomerMessage[status] === undefined,
);

/** The copy of a customer's message owed to their topic. */
export function topicCopyOf(messageId: string): OutboxItem & { kind: "topic_message" } {
	return { kind: "topic_message", messageId };
}
