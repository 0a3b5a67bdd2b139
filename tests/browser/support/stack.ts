/**
 * What a browser test runs against: the real service (real database, the Bot API double) reached
 * as `http://chat.test:<port>`, and a customer's site reached as `http://shop.test:<port>` — a
 * different site, as on a real shop — serving pages that embed the widget with one script tag.
 */
import { afterAll, beforeAll } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../../support/db.ts";
import { startTestService } from "../../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../../support/telegram-double.ts";

/** Limits high enough that a test never waits on them (all visitors share 127.0.0.1). */
const ROOMY_LIMITS = {
	init: 100_000,
	message: 100_000,
	upload: 100_000,
	read: 100_000,
	link: 100_000,
	widgetErrors: 100_000,
};

export interface HostSite {
	/** `http://shop.test:<port>` */
	origin: string;
	/** Serves `html` at `path` (with extra response headers) and returns the page's URL. */
	page(path: string, html: string, headers?: Record<string, string>): string;
	stop(): Promise<void>;
}

export function startHostSite(): HostSite {
	const pages = new Map<string, { html: string; headers: Record<string, string> }>();
	const server = Bun.serve({
		hostname: "127.0.0.1",
		port: 0,
		fetch(req) {
			const path = new URL(req.url).pathname;
			if (path === "/favicon.ico") return new Response(null, { status: 204 });
			const page = pages.get(path);
			if (!page) return new Response("not found", { status: 404 });
			return new Response(page.html, {
				headers: { "content-type": "text/html; charset=utf-8", ...page.headers },
			});
		},
	});
	const origin = `http://shop.test:${server.port}`;
	return {
		origin,
		page(path, html, headers = {}) {
			pages.set(path, { html, headers });
			return `${origin}${path}`;
		},
		async stop() {
			await server.stop(true);
		},
	};
}

export interface ScriptTag {
	/** Path on the service; default `/widget.js`. */
	path?: string;
	/** `data-*` attributes without the prefix, e.g. `{ locale: "ru" }`. */
	data?: Record<string, string>;
}

export interface Stack {
	db: TestDatabase;
	tg: TelegramDouble;
	/** The running service (a new object after `restart`/`startService`). */
	service: RunningService;
	port: number;
	/** `http://chat.test:<port>`: the service as the browser reaches it. */
	base: string;
	site: HostSite;
	/** The `<script>` tag a site owner pastes. */
	scriptTag(tag?: ScriptTag): string;
	/** Serves a shop page with the widget's script tag (and extra head/body) and returns its URL. */
	shopPage(options?: ShopPageOptions): string;
	stopService(): Promise<void>;
	/** Starts the service again on the same port and database. */
	startService(): Promise<void>;
	stop(): Promise<void>;
}

export interface ShopPageOptions extends ScriptTag {
	path?: string;
	head?: string;
	body?: string;
	headers?: Record<string, string>;
	/** The tag's own path on the service (`path` is the page's path on the shop). */
	script?: ScriptTag;
}

let pageCounter = 0;

/** A port nothing listens on right now. */
function freePort(): number {
	const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
	const port = probe.port as number;
	probe.stop(true);
	return port;
}

export async function startStack(
	options: { configFile?: Record<string, unknown>; env?: Record<string, string> } = {},
): Promise<Stack> {
	const db = await freshDatabase();
	const tg = startTelegramDouble();
	const configFile = {
		...options.configFile,
		rateLimits: {
			...ROOMY_LIMITS,
			...(options.configFile?.rateLimits as Record<string, number> | undefined),
		},
	};
	const start = (port: number) =>
		startTestService({
			db,
			double: tg,
			configFile,
			env: {
				ALLOWED_ORIGINS: "shop.test",
				PORT: String(port),
				PUBLIC_URL: `http://chat.test:${port}`,
				...options.env,
			},
		});
	// A known port from the start: PUBLIC_URL (the service's own origin, the demo page's
	// snippet, media URLs) names it, and a restart comes back on it.
	const port = freePort();
	let service = await start(port);
	const base = `http://chat.test:${port}`;
	const site = startHostSite();
	let running = true;
	const stack: Stack = {
		db,
		tg,
		get service() {
			return service;
		},
		port,
		base,
		site,
		scriptTag(tag = {}) {
			const data = Object.entries(tag.data ?? {})
				.map(([key, value]) => ` data-${key}="${value.replaceAll('"', "&quot;")}"`)
				.join("");
			return `<script src="${base}${tag.path ?? "/widget.js"}" async${data}></script>`;
		},
		shopPage(page = {}) {
			pageCounter += 1;
			const path = page.path ?? `/shop-${pageCounter}.html`;
			const tag = stack.scriptTag(page.script ?? { path: undefined, data: page.data });
			return site.page(path, shopHtml({ head: page.head, body: page.body, tag }), page.headers);
		},
		async stopService() {
			if (!running) return;
			running = false;
			await service.stop();
		},
		async startService() {
			if (running) return;
			service = await start(port);
			running = true;
		},
		async stop() {
			await stack.stopService();
			await site.stop();
			await tg.close();
			await db.drop();
		},
	};
	return stack;
}

/** A small but real-looking shop page: a heading, text, a link and a button before the widget. */
export function shopHtml(parts: { head?: string; body?: string; tag: string }): string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title>
${parts.head ?? ""}
</head>
<body>
<header><a href="#top" id="home-link">Shop home</a></header>
<main><h1>Blue kettle</h1><p>A kettle that is blue.</p><button type="button" id="buy">Buy</button></main>
${parts.body ?? ""}
${parts.tag}
</body>
</html>`;
}

/** Starts a stack before the file's tests and stops it after; returns a getter. */
export function useStack(
	options: { configFile?: Record<string, unknown>; env?: Record<string, string> } = {},
): () => Stack {
	let stack: Stack | undefined;
	beforeAll(async () => {
		stack = await startStack(options);
	}, 30_000);
	afterAll(async () => {
		await stack?.stop();
	}, 30_000);
	return () => {
		if (!stack) throw new Error("the stack is not started");
		return stack;
	};
}

/** Number of web sessions stored. */
export async function sessionCount(service: RunningService): Promise<number> {
	const [row] = await service.database.query<{ n: string }>(
		sql`select count(*) as n from web_sessions`,
	);
	return Number(row?.n ?? 0);
}

/** The web session(s) of the customer whose topic is `topicId`. */
export async function sessionOfTopic(service: RunningService, topicId: number): Promise<string> {
	const rows = await service.database.query<{ id: string }>(
		sql`select s.id from web_sessions s join customers c on c.id = s.customer_id
			where c.topic_id = ${topicId} order by s.created_at`,
	);
	const first = rows[0];
	if (!first) throw new Error(`no web session for topic ${topicId}`);
	return first.id;
}

/** Stored messages of the customer whose topic is `topicId` with this exact text. */
export async function storedCount(
	service: RunningService,
	topicId: number,
	text: string,
): Promise<number> {
	const [row] = await service.database.query<{ n: string }>(
		sql`select count(*) as n from messages m join customers c on c.id = m.customer_id
			where c.topic_id = ${topicId} and m.text = ${text}`,
	);
	return Number(row?.n ?? 0);
}
