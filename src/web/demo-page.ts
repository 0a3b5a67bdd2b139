/**
 * `GET /`: a sample site with the widget on it and the snippet to paste for this
 * deployment, so `bun start` and a browser are all it takes to see a working chat. In production
 * (unless DEMO_PAGE=true) it only says whether the service is configured: a public desk should
 * not advertise its setup to visitors.
 */
import { Elysia } from "elysia";
import type { WebDeps } from "./deps.ts";
import { hashedWidgetPath, type WidgetAsset } from "./widget-routes.ts";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
main{max-width:46rem;margin:0 auto;padding:2.5rem 1.25rem 8rem}
h1{font-size:1.9rem;margin:0 0 .25rem}.lead{color:#4b5563;margin-top:0}
section{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:1.25rem 1.5rem;margin:1.5rem 0}
h2{font-size:1.15rem;margin:0 0 .5rem}pre{background:#0f172a;color:#e2e8f0;padding:1rem;border-radius:8px;overflow:auto;font-size:.85rem}
.note{border-left:4px solid #d97706;background:#fffbeb}.ok{border-left:4px solid #059669}
code{font-size:.92em}ul{padding-left:1.2rem}`;

/** The inline stylesheet's hash, so the page's policy can allow exactly it and nothing else. */
const styleHash = `'sha256-${new Bun.CryptoHasher("sha256").update(STYLE).digest("base64")}'`;

interface PageFacts {
	publicUrl: string;
	allowedOrigins: string[];
	botEnabled: boolean;
	widgetPath: string;
	demo: boolean;
}

export function renderDemoPage(facts: PageFacts): string {
	const snippet = `<script src="${facts.publicUrl}/widget.js" async></script>`;
	const pinned = `<script src="${facts.publicUrl}${facts.widgetPath}" async></script>`;
	const origins = facts.allowedOrigins.length
		? `<ul>${facts.allowedOrigins.map((o) => `<li><code>${escapeHtml(o)}</code> and its subdomains</li>`).join("")}</ul>`
		: "<p>No site is allowed yet: set <code>ALLOWED_ORIGINS</code> to your site's domain (e.g. <code>shop.example.com</code>). Outside production, <code>localhost</code> is allowed for trying it out.</p>";
	const bot = facts.botEnabled
		? `<section class="ok"><h2>Telegram</h2><p>The bot is configured: messages you write here appear in your support group's topics, and operators' answers come back here.</p></section>`
		: `<section class="note" role="note"><h2>No Telegram bot yet</h2><p>The chat works, and what you write is stored. Messages for Telegram wait in the outbox until a bot is configured; nothing written meanwhile is lost. To connect one, open the setup link the service printed in its log (<code>/setup?code=…</code>, the code is also in <code>DATA_DIR/setup-code</code>), or set <code>BOT_TOKEN</code> and <code>SUPPORT_GROUP_ID</code> and restart.</p></section>`;
	if (!facts.demo)
		return page(
			"topicdesk",
			`<h1>topicdesk</h1><p class="lead">The support desk is running.</p>${bot}`,
			false,
		);
	return page(
		"topicdesk — demo",
		`<h1>Your support chat</h1>
<p class="lead">This is a sample page with the topicdesk widget on it. Open the chat bubble in the corner and write a message.</p>
${bot}
<section><h2>Put it on your site</h2><p>Paste this line before <code>&lt;/body&gt;</code>:</p>
<pre><code>${escapeHtml(snippet)}</code></pre>
<p>Options: <code>data-locale="ru"</code>, <code>data-position="left"</code>, <code>data-color="#1d4ed8"</code>, <code>data-title="Support"</code>, <code>data-open="true"</code>. To pin this exact build (cached for a year):</p>
<pre><code>${escapeHtml(pinned)}</code></pre></section>
<section><h2>Sites allowed to embed it</h2>${origins}</section>`,
		true,
	);
}

function page(title: string, body: string, withWidget: boolean): string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><main>${body}</main>${withWidget ? '<script src="/widget.js" async></script>' : ""}</body></html>`;
}

export function demoPageRoutes(deps: WebDeps, asset: () => Promise<WidgetAsset>) {
	return new Elysia({ name: "demo-page" }).get(
		"/",
		async ({ set }) => {
			const publicUrl = deps.publicUrl();
			const publicOrigin = new URL(publicUrl).origin;
			const wsOrigin = publicOrigin.replace(/^http/, "ws");
			set.headers["content-type"] = "text/html; charset=utf-8";
			set.headers["cache-control"] = "no-store";
			// The widget on this page talks to this service (also under its public name) and shows
			// media from it; nothing else may run, connect or load.
			set.headers["content-security-policy"] = [
				"default-src 'none'",
				`script-src 'self' ${publicOrigin}`,
				`connect-src 'self' ${publicOrigin} ${wsOrigin}`,
				`img-src 'self' ${publicOrigin} blob: data:`,
				`media-src 'self' ${publicOrigin} blob:`,
				`style-src ${styleHash}`,
				"base-uri 'none'",
				"form-action 'none'",
				"frame-ancestors 'none'",
			].join("; ");
			return renderDemoPage({
				publicUrl,
				allowedOrigins: deps.config.allowedOrigins,
				botEnabled: deps.bot.enabled,
				widgetPath: hashedWidgetPath(await asset()),
				demo: deps.config.demoPage,
			});
		},
		{ detail: { summary: "Demo page with the widget and the snippet for this deployment" } },
	);
}
