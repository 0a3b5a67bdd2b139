/**
 * Serves the widget: `/widget.js`, the same file at the older embed path
 * `/chat-widget/chat-widget.js`, and a content-hashed copy at `/widget/<hash>.js` that never
 * changes and may be cached for a year. The short-lived names revalidate cheaply with `ETag`.
 * Bytes are prepared once: the build (or the copy embedded in the binary), wrapped with this
 * deployment's defaults, and gzip-compressed at level 9.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/index.ts";
import { buildWidget } from "./widget-build.ts";
import { embeddedWidget } from "./widget-embedded.ts";

export interface WidgetAsset {
	/** First 16 hex digits of the SHA-256 of the served script. */
	hash: string;
	etag: string;
	plain: Uint8Array;
	gzip: Uint8Array;
}

/** The path of the immutable copy, for snippets that want it. */
export const hashedWidgetPath = (asset: WidgetAsset) => `/widget/${asset.hash}.js`;

// Built once per process: every service a test run starts reuses the same bundle.
let built: Promise<string> | undefined;
const widgetSource = () => {
	built ??= embeddedWidget ? Promise.resolve(embeddedWidget) : buildWidget();
	return built;
};

/**
 * The served script: the bundle inside a function whose one parameter hands it the deployment's
 * locale and text overrides, so the page gets no global besides `window.topicdesk`.
 */
export async function prepareWidget(
	config: Pick<Config, "locale" | "widgetTexts">,
	version: string,
): Promise<WidgetAsset> {
	const defaults = JSON.stringify({ locale: config.locale, texts: config.widgetTexts, version });
	const text = `(function(TOPICDESK_SERVER){${await widgetSource()}\n})(${defaults});\n`;
	const plain = new TextEncoder().encode(text);
	const hash = new Bun.CryptoHasher("sha256").update(plain).digest("hex").slice(0, 16);
	return { hash, etag: `"${hash}"`, plain, gzip: Bun.gzipSync(plain, { level: 9 }) };
}

const SHORT_CACHE = "public, max-age=300, stale-while-revalidate=86400";
const IMMUTABLE = "public, max-age=31536000, immutable";

function serve(asset: WidgetAsset, request: Request, cacheControl: string): Response {
	const headers: Record<string, string> = {
		"content-type": "text/javascript; charset=utf-8",
		"cache-control": cacheControl,
		etag: asset.etag,
		vary: "Origin, Accept-Encoding",
		// Sites that isolate themselves (COEP require-corp) may still load it.
		"cross-origin-resource-policy": "cross-origin",
	};
	const match = request.headers.get("if-none-match");
	if (match?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === asset.etag))
		return new Response(null, { status: 304, headers });
	const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
	if (gzip) headers["content-encoding"] = "gzip";
	return new Response(gzip ? asset.gzip : asset.plain, { headers });
}

export function widgetRoutes(asset: () => Promise<WidgetAsset>) {
	return new Elysia({ name: "widget-routes" })
		.get("/widget.js", async ({ request }) => serve(await asset(), request, SHORT_CACHE), {
			detail: { summary: "The chat widget script (one line to embed)" },
		})
		.get(
			"/chat-widget/chat-widget.js",
			async ({ request }) => serve(await asset(), request, SHORT_CACHE),
			{ detail: { summary: "The widget at the older embed path" } },
		)
		.get(
			"/widget/:file",
			async ({ request, params, redirect }) => {
				const current = await asset();
				// An old page may name a previous build: it gets the current one, not a broken chat.
				if (params.file !== `${current.hash}.js`) return redirect("/widget.js", 302);
				return serve(current, request, IMMUTABLE);
			},
			{ detail: { summary: "The widget at a content-hashed, immutable URL" } },
		);
}
