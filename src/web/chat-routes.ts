/**
 * The widget's HTTP API: session start, history and the HTTP fallback for sending.
 */
import { Elysia, t } from "elysia";
import { clientKey } from "../core/client-key.ts";
import { AppError } from "../core/errors.ts";
import { type IdentityClaim, startVerifiedSession, verifyIdentity } from "../core/identity.ts";
import { readHistory } from "../core/message-history.ts";
import { canRate } from "../core/ratings.ts";
import { configureSessions, findSession, startWebSession } from "../core/sessions.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { ticketStatuses } from "../db/schema.ts";
import { JSON_BODY } from "./body.ts";
import { clientIp } from "./client-ip.ts";
import type { WebDeps } from "./deps.ts";
import { errorResponses, Ok, ok } from "./envelope.ts";
import { webQuotas } from "./quota.ts";
import { presentedSession, SESSION_COOKIE } from "./session.ts";
import { sessionGuard } from "./session-guard.ts";
import { acceptWebText } from "./text-message.ts";
import { MessageSeq, toWireMessage, WireMessageSchema } from "./wire.ts";

const ONE_YEAR_SECONDS = 31_536_000;

/** A logged-in visitor as the site signs them (core/identity.ts); short texts only. */
const Identity = t.Object({
	userId: t.String({ minLength: 1, maxLength: 256 }),
	hash: t.String({ maxLength: 128 }),
	name: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
	email: t.Optional(t.String({ minLength: 3, maxLength: 254 })),
	fields: t.Optional(
		t.Record(t.String({ maxLength: 40 }), t.String({ maxLength: 200 }), { maxProperties: 10 }),
	),
});
const InitBody = t.Optional(
	t.Nullable(t.Object({ pageUrl: t.Optional(t.String()), identity: t.Optional(Identity) })),
);
const HistoryQuery = t.Object({
	limit: t.Optional(t.String()),
	before: t.Optional(t.String()),
	after: t.Optional(t.String()),
	session: t.Optional(t.String()),
});
const MessageBody = t.Object({
	// Checked by the core, as over the WebSocket: INVALID_MESSAGE, MESSAGE_TOO_LONG.
	text: t.Unknown({ description: "The message: non-empty text of at most 4000 characters" }),
	replyTo: t.Optional(t.String({ maxLength: 64 })),
	clientMessageId: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
});

const TicketStatus = t.UnionEnum(ticketStatuses);

const InitData = t.Object({
	sessionId: t.String(),
	isNewSession: t.Boolean(),
	hasHistory: t.Boolean(),
	telegramLinked: t.Boolean(),
	status: TicketStatus,
	/** Additive: the widget offers the 1–5 rating after a close without another call. */
	canRate: t.Boolean(),
	/** The session is a verified visitor's (`identity` was sent and its hash is valid). */
	verified: t.Boolean(),
});
const HistoryData = t.Object({
	messages: t.Array(WireMessageSchema),
	hasMore: t.Boolean(),
	oldestId: t.Nullable(t.String()),
});
const SentData = t.Object({ messageId: t.String(), seq: MessageSeq, timestamp: t.String() });

/** `limit` must be a whole number from 1 to 100; absent means 50. */
function parseLimit(raw: string | undefined): number {
	if (raw === undefined) return 50;
	if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100)
		throw new AppError("INVALID_PARAMS", "limit must be a whole number from 1 to 100.");
	return Number(raw);
}

/** The page URL is kept only when it is on the origin the widget runs on. */
function sameOriginPage(pageUrl: string | undefined, origin: string | undefined) {
	if (!pageUrl || !origin) return undefined;
	try {
		return new URL(pageUrl).origin === origin && pageUrl.length <= 2048 ? pageUrl : undefined;
	} catch {
		return undefined;
	}
}

/** The session cookie's attributes: cross-site and partitioned in production, where sites embed it. */
const sessionCookie = (production: boolean) => ({
	httpOnly: true,
	path: "/",
	...(production
		? { sameSite: "none" as const, secure: true, partitioned: true }
		: { sameSite: "lax" as const, secure: false }),
});

/** The signed identity of `init`, verified; its texts may hold no control characters. */
function checkedIdentity(deps: WebDeps, identity: IdentityClaim) {
	for (const [name, value] of Object.entries({ ...identity.fields, ...identity, fields: "" }))
		assertNoControlCharacters(value, name, "INVALID_REQUEST");
	return verifyIdentity(deps.config.identitySecret, identity);
}

export function chatRoutes(deps: WebDeps) {
	const { core, limits } = deps;
	configureSessions(core.database, { idleMs: deps.config.sessionIdleMs });
	return new Elysia({ name: "chat-routes", prefix: "/api/chat" })
		.use(sessionGuard(core.database))
		.post(
			"/init",
			async ({ body, cookie, headers, request, server, set }) => {
				const ip = clientIp(request, server, deps.config.trustProxy);
				limits.take("init", ip);
				assertNoControlCharacters(body?.pageUrl, "pageUrl", "INVALID_REQUEST");
				const identity = body?.identity && checkedIdentity(deps, body.identity);
				// `?session=` is for the WebSocket upgrade only, never over HTTP.
				const presented = presentedSession({ cookie, headers, query: {} });
				await webQuotas(deps).beforeInit(presented, ip);
				const pageUrl = sameOriginPage(body?.pageUrl, headers.origin);
				const started = identity
					? await startVerifiedSession(
							core,
							await findSession(core.database, presented),
							identity,
							{
								pageUrl,
								clientKey: clientKey(ip),
							},
						)
					: await startWebSession(core, presented, pageUrl, clientKey(ip));
				if (started.isNewSession) {
					cookie[SESSION_COOKIE]?.set({
						value: started.sessionId,
						...sessionCookie(deps.production),
						maxAge: ONE_YEAR_SECONDS,
					});
				}
				set.status = 200;
				return ok({
					sessionId: started.sessionId,
					isNewSession: started.isNewSession,
					hasHistory: started.hasHistory,
					telegramLinked: started.telegramLinked,
					status: started.status,
					// Additive: the widget offers the 1–5 rating after a close without another call.
					canRate:
						started.status === "CLOSED" && (await canRate(core.database.db, started.customerId)),
					verified: Boolean(identity),
				});
			},
			{
				...JSON_BODY,
				body: InitBody,
				response: {
					200: Ok(InitData),
					...errorResponses({
						body: true,
						codes: { 403: ["IDENTITY_INVALID"], 429: ["RATE_LIMITED", "QUOTA_EXCEEDED"] },
					}),
				},
				detail: {
					summary: "Start or resume a web session",
					description:
						"`{sessionId, isNewSession, hasHistory, telegramLinked, status, canRate, verified}`; `canRate` is true exactly when POST /api/chat/rate would succeed. With `identity` (a visitor the site signed, `hash = hex(HMAC-SHA256(IDENTITY_SECRET, userId))`) the session is that user's on every device; a wrong hash, or a desk without IDENTITY_SECRET, is 403 IDENTITY_INVALID and changes nothing.",
				},
			},
		)
		.post(
			"/forget",
			({ cookie }) => {
				// The site's logout: this browser no longer carries the session (its history stays
				// with the customer, for the next `init` of the same user).
				cookie[SESSION_COOKIE]?.set({ value: "", ...sessionCookie(deps.production), maxAge: 0 });
				return ok({ forgotten: true });
			},
			{
				response: {
					200: Ok(t.Object({ forgotten: t.Boolean() })),
					...errorResponses({}),
				},
				detail: { summary: "Forget this browser's session (the site's logout)" },
			},
		)
		.get(
			"/history",
			async ({ session, query }) => {
				limits.take("read", session.customerId);
				if (query.before !== undefined && query.after !== undefined)
					throw new AppError("INVALID_PARAMS", "Use either before or after, not both.");
				const page = await readHistory(core.database, session.customerId, {
					limit: parseLimit(query.limit),
					before: query.before,
					after: query.after,
				});
				return ok({
					messages: page.messages.map((message) => toWireMessage(message, deps.media)),
					hasMore: page.hasMore,
					oldestId: page.oldestId,
				});
			},
			{
				session: true,
				query: HistoryQuery,
				response: {
					200: Ok(HistoryData),
					...errorResponses({
						session: true,
						codes: { 400: ["INVALID_PARAMS"], 429: ["RATE_LIMITED"] },
					}),
				},
				detail: { summary: "A page of the conversation, by `seq`" },
			},
		)
		.post(
			"/message",
			async ({ session, body, set }) => {
				// One budget with the WebSocket's message frames (chat-socket.ts).
				limits.take("message", session.customerId);
				assertNoControlCharacters(body.text);
				assertNoControlCharacters(body.clientMessageId, "clientMessageId");
				assertNoControlCharacters(body.replyTo, "replyTo");
				const { message } = await acceptWebText(deps, session.customerId, {
					text: body.text as string,
					clientMessageId: body.clientMessageId,
					replyTo: body.replyTo,
				});
				set.status = 201;
				return ok({ messageId: message.id, seq: message.seq, timestamp: message.createdAt });
			},
			{
				...JSON_BODY,
				session: true,
				body: MessageBody,
				response: {
					201: Ok(SentData),
					...errorResponses({
						body: "INVALID_MESSAGE",
						session: true,
						codes: { 400: ["MESSAGE_TOO_LONG"], 429: ["RATE_LIMITED", "QUOTA_EXCEEDED"] },
					}),
				},
				detail: { summary: "Send a message (the WebSocket's fallback)" },
			},
		);
}
