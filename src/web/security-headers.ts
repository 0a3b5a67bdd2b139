/**
 * Headers every response carries, errors and 404s included. No X-Frame-Options: the widget may be
 * framed by the sites it serves. The API answers JSON, media and redirects, none of which needs to
 * run anything or be framed, hence the closed Content-Security-Policy; a route that serves an HTML
 * page of its own (the future /docs) sets a policy fitting that page, which replaces this one.
 */
import { Elysia } from "elysia";

export const SECURITY_HEADERS = {
	"x-content-type-options": "nosniff",
	"referrer-policy": "strict-origin-when-cross-origin",
	"content-security-policy": "default-src 'none'; frame-ancestors 'none'",
} as const;

export function securityHeaders() {
	// Set when the request arrives (onRequest is global and runs before routing), so even a request
	// that fails before reaching a route carries them.
	return new Elysia({ name: "security-headers" }).onRequest(({ set }) => {
		Object.assign(set.headers, SECURITY_HEADERS);
	});
}
