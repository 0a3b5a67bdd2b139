/**
 * `GET /metrics` behind a bearer token, and the hook that times every HTTP request by
 * its route pattern (`/api/media/:id`, never the raw path, so labels stay few).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { type Logger, logContext } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Constant-time: compares fixed-length digests, so neither content nor length leaks. */
function sameToken(presented: string, expected: string): boolean {
	return timingSafeEqual(digest(presented), digest(expected));
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Probes and scrapes would drown the access log; they are still counted in the metrics. */
const QUIET_ROUTES = new Set(["/health", "/health/ready", "/metrics"]);

/**
 * Every request gets a request id (the caller's `X-Request-Id` when it is a plain token, else a
 * new one), echoed in the `x-request-id` header and carried by every log line the request causes
 * (logContext). When it is answered, it is timed for the metrics by its route pattern (requests
 * that matched none are `unmatched`) and logged as one `http.request` line.
 */
export function httpObservability(metrics: Metrics | undefined, log: Logger) {
	// The request's own id travels with its start: its `http.request` line names it even when the
	// answer is logged from a context another request entered meanwhile.
	const started = new WeakMap<Request, { at: number; requestId: string }>();
	return new Elysia({ name: "http-observability" })
		.onRequest(({ request, set }) => {
			const given = request.headers.get("x-request-id");
			const requestId =
				given && REQUEST_ID.test(given)
					? given
					: crypto.randomUUID().replaceAll("-", "").slice(0, 16);
			set.headers["x-request-id"] = requestId;
			started.set(request, { at: performance.now(), requestId });
			logContext.enterWith({ requestId });
		})
		.onAfterResponse({ as: "global" }, ({ request, route, set }) => {
			const start = started.get(request);
			if (start === undefined) return;
			started.delete(request);
			const status = typeof set.status === "number" ? set.status : 200;
			const seconds = (performance.now() - start.at) / 1000;
			const pattern = route || "unmatched";
			metrics?.httpRequest(pattern, request.method, status, seconds);
			if (!QUIET_ROUTES.has(pattern))
				log.info("http request", {
					event: "http.request",
					method: request.method,
					route: pattern,
					status,
					ms: Math.round(seconds * 1000),
					requestId: start.requestId,
				});
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
