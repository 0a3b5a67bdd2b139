/**
 * CORS for the widget. Requests without an Origin (server to server, curl, a same-origin
 * GET) pass untouched. An allowed Origin gets its CORS headers on every answer, errors included, so
 * the widget can read them; a disallowed one is refused with 403 ORIGIN_NOT_ALLOWED before its body
 * is read or any route runs, so nothing from it is processed or stored.
 *
 * WebSocket upgrades are left to the socket, which answers a disallowed Origin with close 4003:
 * a browser cannot read an HTTP error on a failed upgrade.
 */
import { Elysia } from "elysia";
import { AppError } from "../core/errors.ts";
import type { WebDeps } from "./deps.ts";
import { originPolicy } from "./origins.ts";

const PREFLIGHT_HEADERS = {
	"access-control-allow-methods": "GET, POST, OPTIONS",
	"access-control-allow-headers": "Content-Type, X-Session-Id",
	"access-control-max-age": "600",
} as const;

export const originNotAllowed = () =>
	new AppError("ORIGIN_NOT_ALLOWED", "This website is not allowed to use the support chat.", 403);

export function cors(deps: Pick<WebDeps, "config">) {
	const policy = originPolicy(deps.config);
	// onRequest hooks are global by nature: they run for every request, before routing.
	return new Elysia({ name: "cors" }).onRequest(({ request, set }) => {
		// Every answer may differ by Origin, so caches must keep them apart.
		set.headers.vary = "Origin";
		const origin = request.headers.get("origin");
		if (origin === null) return;
		if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return;
		if (!policy.allows(origin)) throw originNotAllowed();
		set.headers["access-control-allow-origin"] = origin;
		set.headers["access-control-allow-credentials"] = "true";
		// The widget backs off by Retry-After on 429; browsers hide it unless exposed.
		set.headers["access-control-expose-headers"] = "Retry-After";
		if (request.method === "OPTIONS") {
			Object.assign(set.headers, PREFLIGHT_HEADERS);
			return new Response(null, { status: 204 });
		}
	});
}
