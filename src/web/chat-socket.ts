/**
 * WebSocket `/ws/chat`. The session is resolved before the upgrade, so `connected` is
 * the first frame and frames that arrive early are simply handled after it. Each socket handles
 * its frames one at a time, in order; all of a customer's sockets share one pub/sub topic.
 *
 * Additions to the existing protocol: the client frame `rate {rating, feedback?}` rates a closed
 * ticket (as `POST /api/chat/rate`; errors NOTHING_TO_RATE, INVALID_MESSAGE, RATE_LIMITED), and
 * the server frame `rated {rating}` reaches every socket of the customer once a rating is stored,
 * whichever channel gave it, so every tab stops offering to rate.
 */

import { eq } from "drizzle-orm";
import { Elysia, status } from "elysia";
import { errorFacts } from "../core/error-facts.ts";
import { AppError } from "../core/errors.ts";
import { lastSeq } from "../core/message-history.ts";
import { rateTicket } from "../core/ratings.ts";
import type { SessionRef } from "../core/sessions.ts";
import { findSession } from "../core/sessions.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { closeByCustomer } from "../core/tickets.ts";
import { isDatabaseUnavailable, isForeignKeyViolation } from "../db/errors.ts";
import { customers } from "../db/schema.ts";
import type { WebDeps } from "./deps.ts";
import { availabilityNow, encodeFrame, readClientFrame } from "./frames.ts";
import { originPolicy } from "./origins.ts";
import { presentedSession } from "./session.ts";
import type { LiveSocket } from "./socket-registry.ts";
import { acceptWebText } from "./text-message.ts";
import { customerTopic, toWireMessage } from "./wire.ts";

export const MAX_FRAME_BYTES = 64 * 1024;

/**
 * A socket's customer was merged into another (web→Telegram linking): it now listens to and
 * writes as the surviving customer, without the widget having to reconnect.
 */
export function retarget(socket: LiveSocket, from: string, to: string) {
	socket.unsubscribe(customerTopic(from));
	socket.subscribe(customerTopic(to));
	const connection = (socket as { data?: unknown }).data;
	if (connection instanceof ChatConnection && connection.session?.customerId === from)
		connection.session = { ...connection.session, customerId: to };
}

/** What a connection's socket is, as Bun hands it to the handlers. */
type ChatWebSocket = LiveSocket & { send(frame: string): unknown; data: ChatConnection };

/** The handlers every connection shares (one set per app, not per socket). */
interface ConnectionHandlers {
	open(ws: ChatWebSocket, connection: ChatConnection): void;
	message(ws: ChatWebSocket, connection: ChatConnection, raw: unknown): void;
	close(ws: ChatWebSocket): void;
}

/**
 * All a connection keeps while it lives (it is the socket's `data`): its session, the frames it
 * is handling and, until it opens, its greeting or refusal. Kept small on purpose, as an idle
 * desk holds one per customer: the upgrade's request and context are not kept, and the handlers
 * are shared through the prototype (Elysia's global WebSocket handlers call `data.open`,
 * `data.message` and `data.close`).
 */
class ChatConnection {
	/** Frames being handled, one at a time, in order; none while the socket is idle. */
	chain: Promise<void> | undefined = undefined;
	constructor(
		private readonly handlers: ConnectionHandlers,
		public session: SessionRef | null,
		/** The `connected` frame until it is sent; when the upgrade is refused, the close code and reason. */
		public hello: string | { code: number; reason: string },
	) {}
	open(ws: ChatWebSocket) {
		this.handlers.open(ws, this);
	}
	message(ws: ChatWebSocket, raw: unknown) {
		this.handlers.message(ws, this, raw);
	}
	close(ws: ChatWebSocket) {
		this.handlers.close(ws);
	}
}

/** A text frame as Elysia's socket parser read it: JSON when it looks like JSON, else the text. */
function parseFrame(message: unknown): unknown {
	const text =
		typeof message === "string"
			? message
			: message instanceof Uint8Array
				? new TextDecoder().decode(message)
				: undefined;
	if (text === undefined) return message;
	const start = text.charCodeAt(0);
	if (start === 34 || start === 47 || start === 91 || start === 123)
		try {
			return JSON.parse(text);
		} catch {
			return text;
		}
	return text;
}

/** Optional feedback: blank means none (its shape was checked with the frame's schema). */
function feedbackText(feedback: string | undefined): string | undefined {
	if (feedback === undefined) return undefined;
	assertNoControlCharacters(feedback, "feedback");
	return feedback.trim() || undefined;
}

const errorFrame = (code: string, message: string) =>
	encodeFrame({ type: "error", data: { code, message } });

/** Telegram shows "typing…" for about 5 s, so one action per 5 s per customer is enough. */
const TYPING_EVERY_MS = 5000;

export function chatSocket(deps: WebDeps) {
	const { core, limits } = deps;
	const origins = originPolicy(deps.config);
	const lastTyping = new Map<string, number>();
	const typingAllowed = (customerId: string) => {
		const now = Date.now();
		if (now - (lastTyping.get(customerId) ?? 0) < TYPING_EVERY_MS) return false;
		// Entries older than the window carry no information: drop them before the map grows.
		if (lastTyping.size > 10_000)
			for (const [id, at] of lastTyping) if (now - at >= TYPING_EVERY_MS) lastTyping.delete(id);
		lastTyping.set(customerId, now);
		return true;
	};

	async function handleFrame(
		send: (frame: string) => void,
		session: SessionRef,
		raw: unknown,
	): Promise<void> {
		const frame = readClientFrame(raw);
		switch (frame.type) {
			case "message": {
				const { text, clientMessageId, replyTo } = frame.data;
				assertNoControlCharacters(text);
				assertNoControlCharacters(clientMessageId, "clientMessageId");
				assertNoControlCharacters(replyTo, "replyTo");
				// One budget with POST /api/chat/message; over it, an error frame and nothing stored.
				limits.take("message", session.customerId);
				// The echo reaches this socket through the customer's topic, like every other tab.
				const result = await acceptWebText(deps, session.customerId, {
					text: text as string,
					clientMessageId,
					replyTo,
				});
				// A retried frame is answered on this socket only; the others saw the original.
				if (result.duplicate)
					send(encodeFrame({ type: "message", data: toWireMessage(result.message) }));
				return;
			}
			case "close": {
				const feedback = feedbackText(frame.data.feedback);
				// A close writes into the support group (notice, card): it spends the message budget.
				limits.take("message", session.customerId);
				// The `status` event reaches this socket (and the others) through the customer's topic.
				await closeByCustomer(core, session.customerId, {
					resolved: frame.data.resolved === true,
					rating: frame.data.rating,
					feedback,
				});
				return;
			}
			case "rate": {
				const feedback = feedbackText(frame.data.feedback);
				// One budget with messages, as POST /api/chat/rate.
				limits.take("message", session.customerId);
				// `rated` reaches this socket (and the others) through the customer's topic.
				await rateTicket(core, session.customerId, { rating: frame.data.rating, feedback });
				return;
			}
			case "typing":
				if (frame.data.isTyping === true && typingAllowed(session.customerId))
					deps.bot.typing(session.customerId);
				return;
			case "pong":
				return;
		}
	}

	/** Shared by every connection; each frame runs after the socket's earlier ones. */
	const handlers: ConnectionHandlers = {
		open(ws, connection) {
			const { session, hello } = connection;
			if (typeof hello !== "string" || !session) {
				const { code, reason } =
					typeof hello === "string" ? { code: 4001, reason: "Session not found" } : hello;
				ws.close(code, reason);
				return;
			}
			ws.subscribe(customerTopic(session.customerId));
			ws.send(hello);
			connection.hello = "";
			deps.sockets.add(ws, session.customerId);
		},
		close(ws) {
			deps.sockets.remove(ws);
		},
		message(ws, connection, message) {
			if (!connection.session) return;
			deps.sockets.touch(ws);
			const raw = parseFrame(message);
			const send = (frame: string) => void ws.send(frame);
			/**
			 * The session is read when the frame's turn comes, not when it arrived: a merge
			 * (linking) may have moved the socket to another customer meanwhile. Should the
			 * `moved` event not have reached this socket yet (another instance merged), the
			 * write fails on the vanished customer; the session is then looked up again and the
			 * frame applied once more as the surviving customer.
			 */
			const handle = async () => {
				const session = connection.session as SessionRef;
				try {
					await handleFrame(send, session, raw);
				} catch (error) {
					if (!isForeignKeyViolation(error)) throw error;
					const current = await findSession(core.database, session.sessionId);
					if (!current || current.customerId === session.customerId) throw error;
					retarget(ws, session.customerId, current.customerId);
					connection.session = current;
					await handleFrame(send, current, raw);
				}
			};
			const next = (connection.chain ?? Promise.resolve()).then(() =>
				handle().catch((error: unknown) => {
					if (error instanceof AppError) send(errorFrame(error.code, error.message));
					else if (isDatabaseUnavailable(error))
						send(
							errorFrame(
								"SERVICE_UNAVAILABLE",
								"The service is briefly unavailable; please retry.",
							),
						);
					else {
						// Never the frame or the error's message (it may quote the frame's text).
						const facts = errorFacts(error);
						deps.log.error("websocket frame failed", { route: "/ws/chat", ...facts });
						send(
							errorFrame(
								"INTERNAL_ERROR",
								`Something went wrong; please retry. (ref ${facts.errorId})`,
							),
						);
					}
				}),
			);
			connection.chain = next;
			// An idle socket keeps no settled promise around.
			void next.then(() => {
				if (connection.chain === next) connection.chain = undefined;
			});
		},
	};

	/** The connection a request upgrades to: refused (origin, session) or greeted. */
	const connectionFor = async (
		context: Parameters<typeof presentedSession>[0] & { request: Request },
	): Promise<ChatConnection> => {
		// Browsers always send Origin on a WebSocket; tools that send none are not browsers.
		const origin = context.request.headers.get("origin");
		if (origin !== null && !origins.allows(origin))
			return new ChatConnection(handlers, null, { code: 4003, reason: "Origin not allowed" });
		const session = await findSession(core.database, presentedSession(context));
		if (!session)
			return new ChatConnection(handlers, null, { code: 4001, reason: "Session not found" });
		const [customer] = await core.database.db
			.select({ status: customers.status })
			.from(customers)
			.where(eq(customers.id, session.customerId));
		const hello = encodeFrame({
			type: "connected",
			data: {
				sessionId: session.sessionId,
				ticketStatus: customer?.status ?? "NEW",
				unreadCount: 0,
				lastSeq: await lastSeq(core.database, session.customerId),
				availability: availabilityNow(deps.config.businessHours),
			},
		});
		return new ChatConnection(handlers, session, hello);
	};

	/**
	 * The upgrade, done here rather than by Elysia's `.ws()`, which keeps the whole request
	 * context, a copy of it and a set of closures for every socket (most of an idle socket's
	 * memory): Bun upgrades the request with a small `ChatConnection` as the socket's data.
	 */
	return new Elysia({ name: "chat-socket" }).route(
		"WS",
		"/ws/chat",
		async (context) => {
			const data = await connectionFor(context);
			const headers = context.set.headers as Record<string, string>;
			const upgraded = context.server?.upgrade(context.request, {
				headers: Object.keys(headers).length > 0 ? headers : undefined,
				data,
			});
			if (!upgraded) return status(400, "Expected a websocket connection");
		},
		{
			detail: {
				summary: "The widget's WebSocket",
				description:
					"Frames are JSON `{type, data}`. Server → client: `connected {sessionId, ticketStatus, unreadCount, lastSeq, availability {open, opensAt?}}`, `message`, `message_edited {id, text, editedAt}`, `status {status}`, `channel_linked {telegram}` (the Telegram username without @, else the first name), `rated {rating}` (a rating was stored, from any channel), `error {code, message}`, `ping {timestamp}`. Client → server: `message {text, replyTo?, clientMessageId?}`, `typing {isTyping}`, `close {resolved?, feedback?, rating?}`, `rate {rating: 1..5, feedback?: ≤ 2000 chars}` (as POST /api/chat/rate; errors NOTHING_TO_RATE, INVALID_MESSAGE, RATE_LIMITED), `pong`.",
			},
		},
	);
}
