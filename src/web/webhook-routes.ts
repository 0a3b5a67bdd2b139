/**
 * `POST /telegram/webhook`, present in webhook mode only (otherwise the path is
 * unknown: 404). The route asks for the webhook on every request rather than once, so a bot the
 * setup page saves in webhook mode receives its updates at once, with no restart. Telegram
 * proves itself with the `X-Telegram-Bot-Api-Secret-Token` header, checked before the body is
 * read: wrong or missing → 401 and nothing processed. An accepted update is applied by the door's
 * router (at most once in effect, by its update id) and answered 200 only after it committed; a
 * failure answers 5xx, so Telegram delivers the update again.
 *
 * Telegram sends no Origin header, so the CORS plugin lets these requests through untouched.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { TelegramUpdate } from "gramio";
import { AppError } from "../core/errors.ts";
import { ok } from "./envelope.ts";

export const WEBHOOK_PATH = "/telegram/webhook";
export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

/** What the web door needs from the Telegram door in webhook mode. */
export interface TelegramWebhook {
	secret: string;
	/** Applies one update; resolves once its effects are committed. */
	handle(update: TelegramUpdate): Promise<void>;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Compares in constant time; hashing first hides the expected length as well. */
export function secretMatches(expected: string, presented: string | null): boolean {
	return presented !== null && timingSafeEqual(digest(expected), digest(presented));
}

function isWebhookRequest(request: Request): boolean {
	// The cheap test first: this hook sees every request of the app.
	return (
		request.method === "POST" &&
		request.url.includes(WEBHOOK_PATH) &&
		new URL(request.url).pathname.replace(/\/$/, "") === WEBHOOK_PATH
	);
}

function asUpdate(body: unknown): TelegramUpdate {
	const id = (body as { update_id?: unknown } | null)?.update_id;
	if (typeof body !== "object" || body === null || !Number.isSafeInteger(id))
		throw new AppError("INVALID_REQUEST", "The body is not a Telegram update.");
	return body as TelegramUpdate;
}

/** `webhook()`: the door's webhook now; undefined while there is none (polling, or no bot yet). */
export function webhookRoutes(webhook: () => TelegramWebhook | undefined) {
	const current = () => {
		const hook = webhook();
		if (!hook) throw new AppError("NOT_FOUND", "No such endpoint.", 404);
		return hook;
	};
	return (
		new Elysia({ name: "telegram-webhook" })
			// onRequest runs before the body is read, for every request (it is global by nature).
			.onRequest(({ request }) => {
				if (!isWebhookRequest(request)) return;
				if (!secretMatches(current().secret, request.headers.get(SECRET_HEADER)))
					throw new AppError("UNAUTHORIZED", "The webhook secret token is wrong or missing.", 401);
			})
			.post(
				WEBHOOK_PATH,
				async ({ body }) => {
					await current().handle(asUpdate(body));
					return ok({});
				},
				{
					detail: { summary: "Telegram webhook (webhook mode; Telegram only)", tags: ["telegram"] },
				},
			)
	);
}
