/**
 * What the core tells a customer's live connections after a commit. The web door turns these
 * into WebSocket frames; the bus carries them between instances as JSON.
 */
import type { TicketStatus } from "../db/schema.ts";
import type { StoredMessage } from "./stored-message.ts";

export type CustomerEvent =
	| { type: "message"; message: StoredMessage }
	| { type: "message_edited"; id: string; text: string; editedAt: string }
	| { type: "status"; status: TicketStatus }
	/** `telegram`: the username without `@`, else the first name. */
	| { type: "channel_linked"; telegram: string }
	/** The customer rated the closed ticket (any channel): the widget stops offering to rate. */
	| { type: "rated"; rating: number }
	/** This customer was merged into `to`: its live sockets continue as that customer. */
	| { type: "moved"; to: string }
	/** This customer's data was erased (`/erase`): its live sockets are closed. */
	| { type: "erased" };

/** Fan-out of customer events to whoever holds that customer's sockets. */
export interface EventBus {
	publish(customerId: string, event: CustomerEvent): void;
	/** Registers the local deliverer; returns an unsubscribe function. */
	subscribe(listener: (customerId: string, event: CustomerEvent) => void): () => void;
}
