/**
 * The ticket from the widget's side: its status, closing it (with an optional rating and
 * feedback), rating it after a close by anyone, and the link that moves the conversation to
 * Telegram.
 */
import { Elysia, t } from "elysia";
import { AppError } from "../core/errors.ts";
import { createLinkToken } from "../core/linking.ts";
import { rateTicket } from "../core/ratings.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { closeByCustomer, ticketOf } from "../core/tickets.ts";
import { ticketStatuses } from "../db/schema.ts";
import { JSON_BODY } from "./body.ts";
import type { WebDeps } from "./deps.ts";
import { errorResponses, Ok, ok } from "./envelope.ts";
import { Feedback, Rating } from "./frames.ts";
import { sessionGuard } from "./session-guard.ts";

const CloseBody = t.Optional(
	t.Nullable(
		t.Object({
			resolved: t.Optional(t.Boolean()),
			feedback: t.Optional(Feedback),
			rating: t.Optional(Rating),
		}),
	),
);

const RateBody = t.Object({
	rating: Rating,
	feedback: t.Optional(Feedback),
});

/**
 * `POST /api/chat/rate` answers `{ticketId, rating}`. The customer's open sockets (every tab,
 * whichever channel rated) get the frame `{"type":"rated","data":{"rating":n}}`, and the
 * WebSocket accepts the same request as the frame `{"type":"rate","data":{rating, feedback?}}`.
 */
export const RateResponse = Ok(
	t.Object({ ticketId: t.String({ format: "uuid" }), rating: Rating }),
);

const TicketStatus = t.UnionEnum(ticketStatuses);
const StatusData = t.Object({
	ticketId: t.String(),
	status: TicketStatus,
	telegramLinked: t.Boolean(),
	telegramUsername: t.Nullable(t.String()),
	createdAt: t.String(),
	lastMessageAt: t.Nullable(t.String()),
	/** A rating would be accepted now: closed, and not rated since the last close. */
	canRate: t.Boolean(),
});
const ClosedData = t.Object({
	ticketId: t.String(),
	status: t.Literal("CLOSED"),
	closedAt: t.String(),
});
const LinkData = t.Object({
	token: t.String(),
	telegramUrl: t.String(),
	expiresAt: t.String(),
});

export function ticketRoutes(deps: WebDeps) {
	const { core, limits } = deps;
	return new Elysia({ name: "ticket-routes", prefix: "/api/chat" })
		.use(sessionGuard(core.database))
		.get(
			"/status",
			async ({ session }) => {
				limits.take("read", session.customerId);
				return ok(await ticketOf(core.database, session.customerId));
			},
			{
				session: true,
				response: {
					200: Ok(StatusData),
					...errorResponses({ session: true, codes: { 429: ["RATE_LIMITED"] } }),
				},
				detail: {
					summary: "The ticket's status",
					description:
						"`{ticketId, status, telegramLinked, telegramUsername, createdAt, lastMessageAt, canRate}`; `canRate` is true exactly when POST /api/chat/rate would succeed.",
				},
			},
		)
		.post(
			"/close",
			async ({ session, body }) => {
				assertNoControlCharacters(body?.feedback, "feedback");
				// A close writes into the support group (notice, card): it spends the message budget.
				limits.take("message", session.customerId);
				return ok(
					await closeByCustomer(core, session.customerId, {
						resolved: body?.resolved,
						feedback: body?.feedback?.trim() || undefined,
						rating: body?.rating,
					}),
				);
			},
			{
				...JSON_BODY,
				session: true,
				body: CloseBody,
				response: {
					200: Ok(ClosedData),
					...errorResponses({
						body: true,
						session: true,
						codes: { 400: ["INVALID_MESSAGE", "TICKET_CLOSED"], 429: ["RATE_LIMITED"] },
					}),
				},
				detail: { summary: "Close the ticket (optional rating and feedback)" },
			},
		)
		.post(
			"/rate",
			async ({ session, body }) => {
				// One budget with messages: a rating is something the customer writes into the topic.
				limits.take("message", session.customerId);
				assertNoControlCharacters(body.feedback, "feedback");
				const { ticketId } = await rateTicket(core, session.customerId, {
					rating: body.rating,
					feedback: body.feedback?.trim() || undefined,
				});
				return ok({ ticketId, rating: body.rating });
			},
			{
				session: true,
				...JSON_BODY,
				body: RateBody,
				response: {
					200: RateResponse,
					...errorResponses({
						body: true,
						session: true,
						codes: { 400: ["NOTHING_TO_RATE", "INVALID_MESSAGE"], 429: ["RATE_LIMITED"] },
					}),
				},
				detail: {
					summary: "Rate the closed conversation (1–5, optional feedback)",
					description:
						"Allowed once per close, whoever closed (the visitor, an operator, auto-close); `canRate` in status and init says whether it would succeed. Stored as event RATED and shown in the topic. 400 NOTHING_TO_RATE when the ticket is open or already rated since its last close (in the widget or by the Telegram rating buttons), 400 INVALID_REQUEST for a bad body, 401, 429 RATE_LIMITED (one budget with messages). The customer's sockets then receive the frame `rated {rating}`; over the WebSocket the same request is the frame `rate {rating, feedback?}`, with errors as `error` frames (NOTHING_TO_RATE, INVALID_MESSAGE).",
				},
			},
		)
		.post(
			"/link-telegram",
			async ({ session }) => {
				limits.take("link", session.customerId);
				const identity = await deps.bot.identity();
				if (!identity?.username)
					throw new AppError(
						"TELEGRAM_UNAVAILABLE",
						"Continuing in Telegram is not available right now.",
						503,
					);
				const { token, expiresAt } = await createLinkToken(
					core,
					session.customerId,
					deps.config.timers.linkTokenTtl,
				);
				return ok({
					token,
					telegramUrl: `https://t.me/${identity.username}?start=${token}`,
					expiresAt: expiresAt.toISOString(),
				});
			},
			{
				session: true,
				response: {
					200: Ok(LinkData),
					...errorResponses({
						session: true,
						codes: { 429: ["RATE_LIMITED"], 503: ["TELEGRAM_UNAVAILABLE"] },
					}),
				},
				detail: { summary: "A one-time link that continues the conversation in Telegram" },
			},
		);
}
