/**
 * The ticket from the widget's side: its status, closing it (with an optional rating and
 * feedback), and the link that moves the conversation to Telegram.
 */
import { Elysia, t } from "elysia";
import { AppError } from "../core/errors.ts";
import { createLinkToken } from "../core/linking.ts";
import { closeByCustomer, ticketOf } from "../core/tickets.ts";
import type { WebDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { sessionGuard } from "./session-guard.ts";

const CloseBody = t.Optional(
	t.Nullable(
		t.Object({
			resolved: t.Optional(t.Boolean()),
			feedback: t.Optional(t.String({ maxLength: 2000 })),
			rating: t.Optional(t.Integer({ minimum: 1, maximum: 5 })),
		}),
	),
);

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
			{ session: true },
		)
		.post(
			"/close",
			async ({ session, body }) =>
				ok(
					await closeByCustomer(core, session.customerId, {
						resolved: body?.resolved,
						feedback: body?.feedback?.trim() || undefined,
						rating: body?.rating,
					}),
				),
			{ session: true, body: CloseBody },
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
			{ session: true },
		);
}
