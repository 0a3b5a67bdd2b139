/**
 * Serves the widget: the loader at `/widget.js`, the same file at the older embed path
 * `/chat-widget/chat-widget.js`, and content-hashed copies that never change and may be cached
 * for a year: the loader at `/widget/<hash>.js`, the rest it loads on intent at
 * `/widget/chat.<hash>.js`. The short-lived names revalidate cheaply with `ETag`. Bytes are
 * prepared once: the build (or the copy embedded in the binary), wrapped with this deployment's
 * defaults, and gzip-compressed at level 9. The older widget's stylesheets are answered too.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/index.ts";
import { buildWidget, type WidgetBundle } from "./widget-build.ts";
import { embeddedWidget } from "./widget-embedded.ts";

interface WidgetFile {
	/** First 16 hex digits of the SHA-256 of the served script. */
	hash: string;
	etag: string;
	plain: Uint8Array;
	gzip: Uint8Array;
}

/** The loader, and the rest of the widget it loads from `chat.path`. */
export interface WidgetAsset extends WidgetFile {
	chat: WidgetFile & { path: string };
}

/** The path of the loader's immutable copy, for snippets that want it. */
export const hashedWidgetPath = (asset: WidgetAsset) => `/widget/${asset.hash}.js`;

const CHAT_PREFIX = "chat.";

function file(text: string): WidgetFile {
	const plain = new TextEncoder().encode(text);
	const hash = new Bun.CryptoHasher("sha256").update(plain).digest("hex").slice(0, 16);
	return { hash, etag: `"${hash}"`, plain, gzip: Bun.gzipSync(plain, { level: 9 }) };
}

/** Only the launcher's texts travel with the loader; the rest carries all of them. */
function launcherOverrides(texts: Config["widgetTexts"]) {
	const pick = (set: Record<string, string | undefined> | undefined) =>
		Object.fromEntries(
			Object.entries(set ?? {}).filter(([key]) => key === "launcher" || key === "unread"),
		);
	return { en: pick(texts?.en), ru: pick(texts?.ru) };
}

// Built once per process: every service a test run starts reuses the same bundle.
let built: Promise<WidgetBundle> | undefined;
const widgetSource = () => {
	built ??= embeddedWidget ? Promise.resolve(embeddedWidget) : buildWidget();
	return built;
};

/**
 * The served scripts: each bundle inside a function whose one parameter hands it the
 * deployment's defaults (the loader: locale, the launcher's texts, the rest's hashed path; the
 * rest: every text override), so the page gets no global besides `window.topicdesk`.
 */
export async function prepareWidget(
	config: Pick<Config, "locale" | "widgetTexts">,
	version: string,
): Promise<WidgetAsset> {
	const source = await widgetSource();
	const wrap = (code: string, defaults: unknown) =>
		`(function(TOPICDESK_SERVER){${code}\n})(${JSON.stringify(defaults)});\n`;
	const chat = file(wrap(source.chat, { texts: config.widgetTexts }));
	const path = `/widget/${CHAT_PREFIX}${chat.hash}.js`;
	const loader = file(
		wrap(source.loader, {
			locale: config.locale,
			texts: launcherOverrides(config.widgetTexts),
			version,
			chat: path,
		}),
	);
	return { ...loader, chat: { ...chat, path } };
}

const SHORT_CACHE = "public, max-age=300, stale-while-revalidate=86400";
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The older widget, run against this service, loads its stylesheets from here before it shows
 * its button. Our widget brings its own styles, so these say so and nothing more.
 */
const OLDER_STYLESHEET = "/* topicdesk: the chat widget served here styles itself. */\n";

function serve(asset: WidgetFile, request: Request, cacheControl: string): Response {
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

const olderStylesheet = () =>
	new Response(OLDER_STYLESHEET, {
		headers: {
			"content-type": "text/css; charset=utf-8",
			"cache-control": SHORT_CACHE,
			"cross-origin-resource-policy": "cross-origin",
		},
	});

export function widgetRoutes(asset: () => Promise<WidgetAsset>) {
	const older = {
		detail: { summary: "The older widget's stylesheet (empty: the widget styles itself)" },
	};
	return new Elysia({ name: "widget-routes" })
		.get("/chat-widget/base.css", olderStylesheet, older)
		.get("/chat-widget/modal.css", olderStylesheet, older)
		.get("/chat-widget/drawer.css", olderStylesheet, older)
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
				if (params.file === `${current.hash}.js`) return serve(current, request, IMMUTABLE);
				if (`/widget/${params.file}` === current.chat.path)
					return serve(current.chat, request, IMMUTABLE);
				// An old page may name a previous build: it gets the current one, not a broken chat.
				if (params.file.startsWith(CHAT_PREFIX)) return redirect(current.chat.path, 302);
				return redirect("/widget.js", 302);
			},
			{
				detail: {
					summary: "The widget's loader or the rest it loads, at a content-hashed, immutable URL",
				},
			},
		);
}
