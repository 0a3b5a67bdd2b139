/** Core data → the widget protocol's JSON shapes (SPEC §4.1, §4.3). */
import type { CustomerEvent } from "../core/events.ts";
import type { StoredMessage } from "../core/messages.ts";

export interface WireMessage {
	id: string;
	seq: number;
	text: string;
	from: StoredMessage["author"];
	channel: StoredMessage["channel"];
	timestamp: string;
	replyTo?: string;
	clientMessageId?: string;
	editedAt?: string;
}

export function toWireMessage(message: StoredMessage): WireMessage {
	const wire: WireMessage = {
		id: message.id,
		seq: message.seq,
		text: message.text,
		from: message.author,
		channel: message.channel,
		timestamp: message.createdAt,
	};
	if (message.replyToId) wire.replyTo = message.replyToId;
	if (message.clientMessageId) wire.clientMessageId = message.clientMessageId;
	if (message.editedAt) wire.editedAt = message.editedAt;
	return wire;
}

/** The WebSocket frame for a customer event. */
export function toFrame(event: CustomerEvent): { type: string; data: unknown } {
	switch (event.type) {
		case "message":
			return { type: "message", data: toWireMessage(event.message) };
		case "message_edited":
			return {
				type: "message_edited",
				data: { id: event.id, text: event.text, editedAt: event.editedAt },
			};
		case "status":
			return { type: "status", data: { status: event.status } };
		case "channel_linked":
			return { type: "channel_linked", data: { telegram: event.telegram } };
	}
}

/** The pub/sub topic that all of one customer's sockets subscribe to. */
export const customerTopic = (customerId: string) => `customer:${customerId}`;
