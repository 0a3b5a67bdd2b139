/** Core data → the widget protocol's JSON shapes (docs/PROTOCOL.md). */
import { type Static, t } from "elysia";
import type { StoredMessage } from "../core/stored-message.ts";
import { authors, channels } from "../db/schema.ts";
import type { MediaSigner } from "./media-url.ts";

/** `seq` numbers the messages of one conversation (never the desk's): what orders and pages. */
export const MessageSeq = t.Number({
	description:
		"the message's number in its conversation, in the order written (1 for a new conversation's first); linking to a Telegram conversation numbers the merged one again, higher",
});

/** A message as the widget sees it: history, the send answer and `message` frames. */
export const WireMessageSchema = t.Object({
	id: t.String(),
	seq: MessageSeq,
	text: t.String(),
	from: t.UnionEnum(authors),
	channel: t.UnionEnum(channels),
	timestamp: t.String({ description: "ISO 8601" }),
	replyTo: t.Optional(t.String()),
	clientMessageId: t.Optional(t.String()),
	editedAt: t.Optional(t.String()),
	imageUrl: t.Optional(t.String()),
	voiceUrl: t.Optional(t.String()),
	voiceDuration: t.Optional(t.Number()),
	fileUrl: t.Optional(t.String()),
	fileName: t.Optional(t.String()),
	/** The file was deleted by retention (`retention.media`): no URL; show "file expired". */
	fileExpired: t.Optional(t.Boolean({ description: "deleted by retention: show the name only" })),
});
export type WireMessage = Static<typeof WireMessageSchema>;

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

/** The pub/sub topic that all of one customer's sockets subscribe to. */
export const customerTopic = (customerId: string) => `customer:${customerId}`;
