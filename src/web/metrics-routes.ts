/**
 * `GET /metrics` behind a bearer token (SPEC 1.5), and the hook that times every HTTP request by
 * its route pattern (`/api/media/:id`, never the raw path, so labels stay few).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { Metrics } from "./metrics.ts";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Constant-time: compares fixed-length digests, so neither content nor length leaks. */
function sameToken(presented: string, expected: string): boolean {
	return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Times each request from its arrival to the response. Requests that matched no route are
 * labelled `unmatched`, whatever their path.
 */
export function httpMetrics(metrics: Metrics) {
	const started = new WeakMap<Request, number>();
	return new Elysia({ name: "http-metrics" })
		.onRequest(({ request }) => {
			started.set(request, performance.now());
		})
		.onAfterResponse({ as: "global" }, ({ request, route, set }) => {
			const start = started.get(request);
			if (start === undefined) return;
			started.delete(request);
			const status = typeof set.status === "number" ? set.status : 200;
			metrics.httpRequest(
				route || "unmatched",
				request.method,
				status,
				(performance.now() - start) / 1000,
			);
		});
}

/** Absent token: no route at all, so `/metrics` is an ordinary 404. */
export function metricsRoutes(metrics: Metrics, token: string | undefined) {
	const app = new Elysia({ name: "metrics-routes" });
	if (!token) return app;
	return app.get(
		"/metrics",
		async ({ headers, set }) => {
			const presented = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "")?.[1]?.trim();
			if (!presented || !sameToken(presented, token)) {
				set.status = 401;
				set.headers["www-authenticate"] = 'Bearer realm="metrics"';
				return "unauthorized\n";
			}
			await metrics.refresh();
			set.headers["content-type"] = metrics.registry.contentType;
			return metrics.registry.metrics();
		},
		{ detail: { hide: true } },
	);
}
