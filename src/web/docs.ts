/**
 * API documentation for integrators: the OpenAPI description generated from the routes' TypeBox
 * schemas at `/docs/json`, and a plain HTML page at `/docs` rendered from it on the server. The
 * page loads nothing from elsewhere (self-hosted desks may be offline), so its policy stays strict.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { VERSION } from "../version.ts";

interface Operation {
	summary?: string;
	description?: string;
	tags?: string[];
}
interface Spec {
	info?: { title?: string; version?: string };
	paths?: Record<string, Record<string, Operation>>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDocsPage(spec: Spec): string {
	const rows = Object.entries(spec.paths ?? {})
		.flatMap(([path, methods]) =>
			Object.entries(methods).map(
				([method, op]) =>
					`<tr><td><code>${escapeHtml(method.toUpperCase())}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? op.description ?? "")}</td></tr>`,
			),
		)
		.join("\n");
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(spec.info?.title ?? "API")}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}td{padding:.3rem .8rem;border-bottom:1px solid #ddd;vertical-align:top}code{font-size:.9em}</style>
</head><body><h1>${escapeHtml(spec.info?.title ?? "API")} <small>${escapeHtml(spec.info?.version ?? "")}</small></h1>
<p>Every response is <code>{"success":true,"data":…}</code> or <code>{"success":false,"error":{"code","message"}}</code>. The machine-readable description is at <a href="/docs/json"><code>/docs/json</code></a>; the WebSocket protocol lives at <code>/ws/chat</code>.</p>
<table>${rows}</table></body></html>`;
}

/** `getSpec` reads the generated description (the app answers `/docs/json` itself). */
export function docsRoutes(getSpec: () => Promise<Spec>) {
	let page: string | undefined;
	return new Elysia({ name: "docs" })
		.use(
			openapi({
				path: "/docs",
				specPath: "/docs/json",
				provider: null,
				documentation: {
					info: {
						title: "topicdesk web chat API",
						version: VERSION,
						description: "The widget's HTTP API.",
					},
				},
				exclude: { paths: ["/docs", "/docs/json"] },
			}),
		)
		.get(
			"/docs",
			async ({ set }) => {
				page ??= renderDocsPage(await getSpec());
				set.headers["content-type"] = "text/html; charset=utf-8";
				set.headers["content-security-policy"] =
					"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
				return page;
			},
			{ detail: { hide: true } },
		);
}
