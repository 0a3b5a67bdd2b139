/**
 * WebSocket `/ws/chat` (SPEC §4.3). The session is resolved before the upgrade, so `connected` is
 * the first frame and frames that arrive early are simply handled after it. Each socket handles
 * its frames one at a time, in order; all of a customer's sockets share one pub/sub topic.
 *
 * Additions to the existing protocol: the client frame `rate {rating, feedback?}` rates a closed
 * ticket (as `POST /api/chat/rate`; errors NOTHING_TO_RATE, INVALID_MESSAGE, RATE_LIMITED), and
 * the server frame `rated {rating}` reaches every socket of the customer once a rating is stored,
 * whichever channel gave it, so every tab stops offering to rate.
 */

import { eq } from "drizzle-orm";
import { Elysia } from "elysia";
import { errorFacts } from "../core/error-facts.ts";
import { AppError } from "../core/errors.ts";
import { lastSeq } from "../core/message-history.ts";
import { acceptCustomerMessage } from "../core/messages.ts";
import { rateTicket } from "../core/ratings.ts";
import type { SessionRef } from "../core/sessions.ts";
import { findSession } from "../core/sessions.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { closeByCustomer } from "../core/tickets.ts";
import { isDatabaseUnavailable, isForeignKeyViolation } from "../db/errors.ts";
import { customers } from "../db/schema.ts";
import type { WebDeps } from "./deps.ts";
import { encodeFrame, readClientFrame } from "./frames.ts";
import { originPolicy } from "./origins.ts";
import { webQuotas } from "./quota.ts";
import { presentedSession } from "./session.ts";
import type { LiveSocket } from "./socket-registry.ts";
import { customerTopic, toWireMessage } from "./wire.ts";

export const MAX_FRAME_BYTES = 64 * 1024;

/**
 * A socket's customer was merged into another (web→Telegram linking): it now listens to and
 * writes as the surviving customer, without the widget having to reconnect.
 */
export function retarget(socket: LiveSocket, from: string, to: string) {
	socket.unsubscribe(customerTopic(from));
	socket.subscribe(customerTopic(to));
	const state = (socket as { data?: { state?: SocketState } }).data?.state;
	if (state?.session?.customerId === from) state.session = { ...state.session, customerId: to };
}

/** Per-socket state, kept small: it lives as long as the connection. */
interface SocketState {
	session: SessionRef | null;
	/** Set when the upgrade is refused: the socket is closed with it as soon as it opens. */
	refusal: { code: number; reason: string } | null;
	hello: string;
	chain: Promise<void>;
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
				await webQuotas(deps).beforeMessage(session.customerId);
				// The echo reaches this socket through the customer's topic, like every other tab.
				const result = await acceptCustomerMessage(core, {
					customerId: session.customerId,
					channel: "web",
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

	return new Elysia({ name: "chat-socket" }).ws("/ws/chat", {
		detail: {
			summary: "The widget's WebSocket (SPEC §4.3)",
			description:
				"Frames are JSON `{type, data}`. Server → client: `connected {sessionId, ticketStatus, unreadCount, lastSeq}`, `message`, `message_edited {id, text, editedAt}`, `status {status}`, `channel_linked {telegram}` (the Telegram username without @, else the first name), `rated {rating}` (a rating was stored, from any channel), `error {code, message}`, `ping {timestamp}`. Client → server: `message {text, replyTo?, clientMessageId?}`, `typing {isTyping}`, `close {resolved?, feedback?, rating?}`, `rate {rating: 1..5, feedback?: ≤ 2000 chars}` (as POST /api/chat/rate; errors NOTHING_TO_RATE, INVALID_MESSAGE, RATE_LIMITED), `pong`.",
		},
		async beforeHandle(context) {
			const state: SocketState = {
				session: null,
				refusal: null,
				hello: "",
				chain: Promise.resolve(),
			};
			(context as unknown as { state: SocketState }).state = state;
			// Browsers always send Origin on a WebSocket; tools that send none are not browsers.
			const origin = context.request.headers.get("origin");
			if (origin !== null && !origins.allows(origin)) {
				state.refusal = { code: 4003, reason: "Origin not allowed" };
				return;
			}
			const session = await findSession(core.database, presentedSession(context));
			if (!session) state.refusal = { code: 4001, reason: "Session not found" };
			else {
				const [customer] = await core.database.db
					.select({ status: customers.status })
					.from(customers)
					.where(eq(customers.id, session.customerId));
				state.session = session;
				state.hello = encodeFrame({
					type: "connected",
					data: {
						sessionId: session.sessionId,
						ticketStatus: customer?.status ?? "NEW",
						unreadCount: 0,
						lastSeq: await lastSeq(core.database, session.customerId),
					},
				});
			}
		},
		open(ws) {
			const state = (ws.data as unknown as { state: SocketState }).state;
			if (state.refusal || !state.session) {
				const { code, reason } = state.refusal ?? { code: 4001, reason: "Session not found" };
				ws.close(code, reason);
				return;
			}
			ws.raw.subscribe(customerTopic(state.session.customerId));
			ws.raw.send(state.hello);
			state.hello = "";
			deps.sockets.add(ws.raw, state.session.customerId);
		},
		close(ws) {
			deps.sockets.remove(ws.raw);
		},
		message(ws, raw) {
			const state = (ws.data as unknown as { state: SocketState }).state;
			if (!state.session) return;
			deps.sockets.touch(ws.raw);
			const send = (frame: string) => ws.send(frame);
			/**
			 * The session is read when the frame's turn comes, not when it arrived: a merge
			 * (linking) may have moved the socket to another customer meanwhile. Should the
			 * `moved` event not have reached this socket yet (another instance merged), the
			 * write fails on the vanished customer; the session is then looked up again and the
			 * frame applied once more as the surviving customer.
			 */
			const handle = async () => {
				const session = state.session as SessionRef;
				try {
					await handleFrame(send, session, raw);
				} catch (error) {
					if (!isForeignKeyViolation(error)) throw error;
					const current = await findSession(core.database, session.sessionId);
					if (!current || current.customerId === session.customerId) throw error;
					retarget(ws.raw, session.customerId, current.customerId);
					state.session = current;
					await handleFrame(send, current, raw);
				}
			};
			state.chain = state.chain.then(() =>
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
		},
	});
}
