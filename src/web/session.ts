/**
 * Finding the caller's session: cookie `webchat_session`, else header `X-Session-Id`, else — on
 * the WebSocket upgrade only, where a browser cannot set a header — query `?session=`.
 * Over HTTP a session id in the URL would end up in access logs, proxies and Referer headers.
 */
import type { Cookie } from "elysia";
import { sessionNotFound } from "../core/errors.ts";
import { findSession, type SessionRef } from "../core/sessions.ts";
import type { Database } from "../db/client.ts";

export const SESSION_COOKIE = "webchat_session";

export interface SessionSources {
	cookie: Record<string, Cookie<unknown>>;
	headers: Record<string, string | undefined>;
	query: Record<string, unknown>;
}

export function presentedSession({ cookie, headers, query }: SessionSources): string | undefined {
	const fromCookie = cookie[SESSION_COOKIE]?.value;
	if (typeof fromCookie === "string" && fromCookie) return fromCookie;
	const fromHeader = headers["x-session-id"];
	if (fromHeader) return fromHeader;
	const fromQuery = query.session;
	return typeof fromQuery === "string" && fromQuery ? fromQuery : undefined;
}

/** The caller's session, or a 401 SESSION_NOT_FOUND. */
export async function requireSession(
	database: Database,
	sources: SessionSources,
): Promise<SessionRef> {
	const session = await findSession(
		database,
		presentedSession({ cookie: sources.cookie, headers: sources.headers, query: {} }),
	);
	if (!session) throw sessionNotFound();
	return session;
}
