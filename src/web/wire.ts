/** Core data → the widget protocol's JSON shapes (SPEC §4.1, §4.3). */
import type { CustomerEvent } from "../core/events.ts";
import type { StoredMessage } from "../core/stored-message.ts";
import type { MediaSigner } from "./media-url.ts";

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
	imageUrl?: string;
	voiceUrl?: string;
	voiceDuration?: number;
	fileUrl?: string;
	fileName?: string;
	/** The file was deleted by retention (`retention.media`): no URL; show "file expired". */
	fileExpired?: boolean;
}

/**
 * A message as the widget sees it. Attachments become signed URLs: images as `imageUrl`, voice
 * notes as `voiceUrl` (+ duration), everything else as `fileUrl` + `fileName`.
 */
export function toWireMessage(message: StoredMessage, signer?: MediaSigner): WireMessage {
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
	const attachment = message.media;
	if (attachment?.expiredAt) {
		// Additive: retention deleted the file; no URL, and the name stays for the stub.
		wire.fileExpired = true;
		if (attachment.fileName) wire.fileName = attachment.fileName;
	} else if (attachment && signer) {
		const url = signer.url(attachment.id);
		if (attachment.kind === "image" || attachment.kind === "sticker") wire.imageUrl = url;
		else if (attachment.kind === "voice") {
			wire.voiceUrl = url;
			if (attachment.duration != null) wire.voiceDuration = attachment.duration;
		} else {
			wire.fileUrl = url;
			wire.fileName = attachment.fileName ?? "file";
		}
	}
	return wire;
}

/** The WebSocket frame for a customer event. */
export function toFrame(
	event: CustomerEvent,
	signer?: MediaSigner,
): { type: string; data: unknown } | null {
	switch (event.type) {
		case "message":
			return { type: "message", data: toWireMessage(event.message, signer) };
		case "message_edited":
			return {
				type: "message_edited",
				data: { id: event.id, text: event.text, editedAt: event.editedAt },
			};
		case "status":
			return { type: "status", data: { status: event.status } };
		case "channel_linked":
			return { type: "channel_linked", data: { telegram: event.telegram } };
		case "rated":
			return { type: "rated", data: { rating: event.rating } };
		case "moved":
		case "erased":
			return null; // handled by the socket layer, never sent to a widget
	}
}

/** The pub/sub topic that all of one customer's sockets subscribe to. */
export const customerTopic = (customerId: string) => `customer:${customerId}`;
