/**
 * The WebSocket protocol of `/ws/chat` (docs/PROTOCOL.md) as TypeBox schemas: every frame is JSON
 * `{type, data}`. Server frames are typed from these schemas; client frames are read with them
 * (`readClientFrame`), never field by field by hand.
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type Static, t } from "elysia";
import { availability, type BusinessHours } from "../core/business-hours.ts";
import { AppError } from "../core/errors.ts";
import type { CustomerEvent } from "../core/events.ts";
import { MAX_FEEDBACK } from "../core/ratings.ts";
import { ticketStatuses } from "../db/schema.ts";
import type { MediaSigner } from "./media-url.ts";
import { toWireMessage, WireMessageSchema } from "./wire.ts";

/**
 * A whole number from 1 to 5. Literals, because Elysia coerces a JSON string such as "5" into a
 * `t.Integer`, and a rating sent as text is a client bug to report, not to guess.
 */
export const Rating = t.Union(
	[t.Literal(1), t.Literal(2), t.Literal(3), t.Literal(4), t.Literal(5)],
	{
		description: "1 (poor) to 5 (excellent)",
	},
);
export const Feedback = t.String({ maxLength: MAX_FEEDBACK });
const TicketStatus = t.UnionEnum(ticketStatuses);

/** Whether the desk is open now (business hours) and, when closed, its next opening. */
export const AvailabilitySchema = t.Object({
	open: t.Boolean(),
	opensAt: t.Optional(t.String({ format: "date-time" })),
});

/** The desk's availability now, as the widget reads it (`bot-info`, the `connected` frame). */
export function availabilityNow(
	hours: BusinessHours | undefined,
): Static<typeof AvailabilitySchema> {
	const { open, opensAt } = availability(new Date(), hours);
	return opensAt ? { open, opensAt: opensAt.toISOString() } : { open };
}

const frame = <T extends string, D extends TSchema>(type: T, data: D) =>
	t.Object({ type: t.Literal(type), data });

/** Server → client. */
export const ServerFrameSchemas = {
	connected: frame(
		"connected",
		t.Object({
			sessionId: t.String(),
			ticketStatus: TicketStatus,
			unreadCount: t.Number(),
			lastSeq: t.Number({
				description: "the conversation's highest `seq`; 0 before its first message",
			}),
			availability: AvailabilitySchema,
		}),
	),
	message: frame("message", WireMessageSchema),
	message_edited: frame(
		"message_edited",
		t.Object({ id: t.String(), text: t.String(), editedAt: t.String() }),
	),
	status: frame("status", t.Object({ status: TicketStatus })),
	/** The Telegram username without @, else the first name. */
	channel_linked: frame("channel_linked", t.Object({ telegram: t.String() })),
	/** A rating was stored, from any channel: every tab stops offering to rate. */
	rated: frame("rated", t.Object({ rating: t.Number() })),
	error: frame("error", t.Object({ code: t.String(), message: t.String() })),
	ping: frame("ping", t.Object({ timestamp: t.Number() })),
};
export const ServerFrameSchema = t.Union(Object.values(ServerFrameSchemas));
export type ServerFrame = Static<typeof ServerFrameSchema>;

/**
 * Client → server, the `data` of each frame type. Widgets in the wild put the fields at the top
 * level or under `data`; both are read.
 */
export const ClientFrameSchemas = {
	message: t.Object({
		/** Checked by the core like the HTTP send (INVALID_MESSAGE, MESSAGE_TOO_LONG). */
		text: t.Unknown(),
		replyTo: t.Optional(t.String()),
		clientMessageId: t.Optional(t.String({ maxLength: 128 })),
	}),
	typing: t.Object({ isTyping: t.Optional(t.Boolean()) }),
	close: t.Object({
		resolved: t.Optional(t.Boolean()),
		feedback: t.Optional(Feedback),
		rating: t.Optional(Rating),
	}),
	rate: t.Object({ rating: Rating, feedback: t.Optional(Feedback) }),
	pong: t.Object({}),
};
export type ClientFrameType = keyof typeof ClientFrameSchemas;
export type ClientFrame = {
	[K in ClientFrameType]: { type: K; data: Static<(typeof ClientFrameSchemas)[K]> };
}[ClientFrameType];

/**
 * Fields whose malformed value refuses the frame, with the message the client gets; any other
 * field that does not fit its schema is ignored, as the protocol always did (a too long
 * `clientMessageId` only loses its idempotency, `resolved: "yes"` is not a yes).
 */
const REFUSED_WHEN_MALFORMED: Record<string, string> = {
	rating: "rating must be a whole number from 1 to 5.",
	feedback: `feedback must be text of at most ${MAX_FEEDBACK} characters.`,
};

const malformed = () => new AppError("INVALID_MESSAGE", "Unknown or malformed frame.");

/** Reads a client frame with the schemas above; throws INVALID_MESSAGE when it is not one. */
export function readClientFrame(raw: unknown): ClientFrame {
	if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw malformed();
	const { type, data } = raw as { type?: unknown; data?: unknown };
	if (typeof type !== "string" || !Object.hasOwn(ClientFrameSchemas, type)) throw malformed();
	const schema: TObject = ClientFrameSchemas[type as ClientFrameType];
	const fields = {
		...(raw as Record<string, unknown>),
		...(typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {}),
	};
	const read: Record<string, unknown> = {};
	for (const [name, field] of Object.entries(schema.properties) as [string, TSchema][]) {
		const value = fields[name];
		const required = schema.required?.includes(name) ?? false;
		if (value === undefined && !(required && REFUSED_WHEN_MALFORMED[name])) {
			if (required) read[name] = value;
			continue;
		}
		if (Value.Check(field, value)) read[name] = value;
		else if (REFUSED_WHEN_MALFORMED[name])
			throw new AppError("INVALID_MESSAGE", REFUSED_WHEN_MALFORMED[name]);
	}
	return { type, data: read } as ClientFrame;
}

/** The WebSocket frame for a customer event. */
export function toFrame(event: CustomerEvent, signer?: MediaSigner): ServerFrame | null {
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

/** One server frame, serialised. */
export const encodeFrame = (frame: ServerFrame) => JSON.stringify(frame);
