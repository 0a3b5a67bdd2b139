/**
 * The bot's public face for the widget header: name, username and avatar. Always answers, with
 * fallback values when the bot is disabled or Telegram is unreachable.
 */
import { Elysia, t } from "elysia";
import type { WebDeps } from "./deps.ts";
import { Bytes, errorResponses, Ok, ok } from "./envelope.ts";
import { AvailabilitySchema, availabilityNow } from "./frames.ts";

const BotInfo = t.Object({
	name: t.String(),
	username: t.Nullable(t.String()),
	avatarUrl: t.String(),
	availability: AvailabilitySchema,
});

/** A neutral speech-bubble placeholder, served when the bot has no photo. */
const PLACEHOLDER_AVATAR = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="32" fill="#2AABEE"/><path d="M18 22h28a4 4 0 0 1 4 4v14a4 4 0 0 1-4 4H30l-8 7v-7h-4a4 4 0 0 1-4-4V26a4 4 0 0 1 4-4z" fill="#fff"/></svg>`;

export function botRoutes(deps: WebDeps) {
	return new Elysia({ name: "bot-routes", prefix: "/api/chat" })
		.get(
			"/bot-info",
			async () => {
				const identity = await deps.bot.identity();
				return ok({
					name: identity?.name ?? deps.texts.get("botFallbackName"),
					username: identity?.username ?? null,
					avatarUrl: `${deps.publicUrl()}/api/chat/bot-avatar`,
					availability: availabilityNow(deps.config.businessHours),
				});
			},
			{
				response: { 200: Ok(BotInfo), ...errorResponses({}) },
				detail: {
					summary:
						"The bot's name, username and avatar URL for the widget header, and whether the desk is open",
				},
			},
		)
		.get(
			"/bot-avatar",
			async () => {
				const avatar = await deps.bot.avatar();
				const headers = { "cache-control": "public, max-age=3600" };
				return avatar
					? new Response(avatar.bytes, { headers: { ...headers, "content-type": avatar.type } })
					: new Response(PLACEHOLDER_AVATAR, {
							headers: { ...headers, "content-type": "image/svg+xml; charset=utf-8" },
						});
			},
			{
				response: {
					200: Bytes("The bot's photo, or a placeholder SVG when it has none"),
					...errorResponses({}),
				},
				detail: { summary: "The bot's avatar image" },
			},
		);
}
