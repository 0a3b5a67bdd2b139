/**
 * Small public endpoints around the widget: `GET /ask-support` (a "write to us in Telegram"
 * button that remembers the page the visitor came from) and `POST /api/widget/errors` (the
 * widget's own error reports from allowed sites, logged for the self-hoster: at most 1 KB of them
 * per request, URLs without their query strings and fragments).
 */
import { Elysia, t } from "elysia";
import { saveEntryContext } from "../core/entry-contexts.ts";
import { AppError } from "../core/errors.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { withinBudget } from "../observability/log-text.ts";
import { JSON_BODY } from "./body.ts";
import { clientIp } from "./client-ip.ts";
import { originNotAllowed } from "./cors.ts";
import type { WebDeps } from "./deps.ts";
import { errorResponses, Ok, ok } from "./envelope.ts";
import { originPolicy } from "./origins.ts";

/** User agents that announce themselves as robots; a redirect into Telegram is useless to them. */
const ROBOT =
	/bot|crawl|spider|slurp|facebookexternalhit|preview|headless|curl|wget|python-requests|httpclient/i;

const WidgetErrors = t.Object({
	errors: t.Array(t.Unknown(), { maxItems: 100 }),
});

/** At most this many reports of one request are looked at... */
const REPORTS_USED = 10;
/** ...and at most this many characters of page-supplied text are logged for one request. */
const LOGGED_CHARS = 1024;

export function entryRoutes(deps: WebDeps) {
	const origins = originPolicy(deps.config);
	/** `?url=` is trusted only when it points at a site allowed to embed the widget. */
	const allowedPage = (url: string | undefined) => {
		if (!url || url.length > 2048) return undefined;
		const parsed = URL.parse(url);
		return parsed && origins.allows(parsed.origin) ? parsed.toString() : undefined;
	};
	return new Elysia({ name: "entry-routes" })
		.get(
			"/ask-support",
			async ({ request, server, query, headers, redirect }) => {
				if (!headers["user-agent"] || ROBOT.test(headers["user-agent"]))
					throw new AppError("FORBIDDEN", "Automated clients are not redirected.", 403);
				assertNoControlCharacters(query.url, "url", "INVALID_REQUEST");
				const ip = clientIp(request, server, deps.config.trustProxy);
				deps.limits.take("init", ip);
				const identity = await deps.bot.identity();
				if (!identity?.username)
					throw new AppError(
						"TELEGRAM_UNAVAILABLE",
						"Telegram support is not available right now.",
						503,
					);
				const referer = headers.referer;
				const id = await saveEntryContext(deps.core.database, {
					pageUrl: allowedPage(query.url) ?? (referer && referer.length <= 2048 ? referer : null),
					city: null,
					ip,
				});
				return redirect(`https://t.me/${identity.username}?start=${id}`, 302);
			},
			{ query: t.Object({ url: t.Optional(t.String()) }) },
		)
		.post(
			"/api/widget/errors",
			({ body, headers, request, server }) => {
				// Only the widget on a site allowed to embed it reports; a browser always sends the
				// Origin of a cross-site POST, so a report without one is not the widget's.
				const origin = headers.origin;
				if (!origin || !origins.allows(origin)) throw originNotAllowed();
				// Keyed by the client, never by the Origin header: anyone can write any Origin.
				deps.limits.take("widgetErrors", clientIp(request, server, deps.config.trustProxy));
				const used = body.errors.slice(0, REPORTS_USED);
				const texts = used.map((report) =>
					typeof report === "string" ? report : (JSON.stringify(report) ?? ""),
				);
				// One line per request: the origin and the reports within the budget, URLs cleaned.
				deps.log.warn("widget error", {
					origin,
					reports: withinBudget(texts, LOGGED_CHARS - origin.length),
				});
				return ok({ processed: used.length });
			},
			{
				...JSON_BODY,
				body: WidgetErrors,
				response: {
					200: Ok(t.Object({ processed: t.Number() })),
					...errorResponses({
						body: true,
						codes: { 403: ["ORIGIN_NOT_ALLOWED"], 429: ["RATE_LIMITED"] },
					}),
				},
				detail: { summary: "The widget's own error reports, logged for the self-hoster" },
			},
		);
}
