/**
 * The widget as a site owner's browser fetches it: one classic script, small, cached
 * the right way at every URL it is served from, with this deployment's texts inside; and the demo
 * page at `/` with the snippet to paste.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "./support/telegram-double.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
let botless: RunningService;
let production: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	service = await startTestService({
		db,
		double: tg,
		env: { ALLOWED_ORIGINS: "shop.example.com", PUBLIC_URL: "https://desk.example.com" },
		configFile: { texts: { ru: { widget: { launcher: "Спросите нас" } } } },
	});
	botless = await startTestService({ db });
	production = await startTestService({ db, env: { NODE_ENV: "production" } });
});
afterAll(async () => {
	await Promise.all([service?.stop(), botless?.stop(), production?.stop()]);
	await tg?.close();
	await db?.drop();
});

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });

describe("the script", () => {
	test("is one classic script, gzip ≤ 5 KB, with the deployment's defaults inside", async () => {
		const response = await get(`${service.url}/widget.js`, { "accept-encoding": "identity" });
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(response.headers.get("content-encoding")).toBeNull();
		const text = await response.text();
		// An async cross-origin script cannot be a module: no top-level import or export.
		expect(text).toStartWith("(function(TOPICDESK_SERVER){");
		expect(text).not.toMatch(/^\s*(export|import)\s/m);
		expect(() => new Function(text)).not.toThrow();
		// The loader's budget: JS and CSS together, gzip -9.
		expect(Bun.gzipSync(new TextEncoder().encode(text), { level: 9 }).length).toBeLessThanOrEqual(
			5120,
		);
		// The config file's override travels with the script; the bot's texts do not.
		expect(text).toContain('"launcher":"Спросите нас"');
		expect(text).toContain('"locale":"en"');
		// Bun's CSS printer mangles integers above 2^24: the topmost layer is set from script.
		expect(text).toContain("2147483647");
	});

	test("is served compressed to browsers that accept gzip", async () => {
		const plain = await (
			await get(`${service.url}/widget.js`, { "accept-encoding": "identity" })
		).arrayBuffer();
		const response = await fetch(`${service.url}/widget.js`, {
			headers: { "accept-encoding": "gzip, deflate, br" },
			decompress: false,
		});
		expect(response.headers.get("content-encoding")).toBe("gzip");
		expect(response.headers.get("vary")).toContain("Accept-Encoding");
		const body = new Uint8Array(await response.arrayBuffer());
		expect(body.length).toBeLessThan(plain.byteLength * 0.6);
		expect(Bun.gunzipSync(body)).toEqual(new Uint8Array(plain));
	});

	test("revalidates with ETag: 304 and no body when unchanged", async () => {
		const first = await get(`${service.url}/widget.js`);
		const etag = first.headers.get("etag");
		expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
		expect(first.headers.get("cache-control")).toBe(
			"public, max-age=300, stale-while-revalidate=86400",
		);
		const again = await get(`${service.url}/widget.js`, { "if-none-match": etag ?? "" });
		expect(again.status).toBe(304);
		expect(await again.text()).toBe("");
		const changed = await get(`${service.url}/widget.js`, { "if-none-match": '"0000"' });
		expect(changed.status).toBe(200);
	});

	test("the older embed path serves the same file", async () => {
		const now = await (await get(`${service.url}/widget.js`)).text();
		const older = await get(`${service.url}/chat-widget/chat-widget.js`);
		expect(older.status).toBe(200);
		expect(await older.text()).toBe(now);
	});

	test("the content-hashed URL is immutable; an old hash leads to the current script", async () => {
		const etag = (await get(`${service.url}/widget.js`)).headers.get("etag") ?? "";
		const hash = etag.replaceAll('"', "");
		const pinned = await get(`${service.url}/widget/${hash}.js`);
		expect(pinned.status).toBe(200);
		expect(pinned.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(pinned.headers.get("etag")).toBe(etag);
		const stale = await fetch(`${service.url}/widget/0123456789abcdef.js`, { redirect: "manual" });
		expect(stale.status).toBe(302);
		expect(stale.headers.get("location")).toBe("/widget.js");
	});

	test("the loader is at most 5,120 bytes gzipped and names the rest, at most 16 KB gzipped, at an immutable URL", async () => {
		const loader = await (
			await get(`${service.url}/widget.js`, { "accept-encoding": "identity" })
		).text();
		const gz = (text: string) => Bun.gzipSync(new TextEncoder().encode(text), { level: 9 }).length;
		expect(gz(loader)).toBeLessThanOrEqual(5120);
		const path = loader.match(/"chat":"(\/widget\/chat\.[0-9a-f]{16}\.js)"/)?.[1];
		expect(path).toBeDefined();
		const chat = await get(`${service.url}${path}`, { "accept-encoding": "identity" });
		expect(chat.status).toBe(200);
		expect(chat.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(chat.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		const text = await chat.text();
		expect(text).toStartWith("(function(TOPICDESK_SERVER){");
		expect(text).not.toMatch(/^\s*(export|import)\s/m);
		expect(() => new Function(text)).not.toThrow();
		expect(gz(text)).toBeLessThanOrEqual(16 * 1024);
		// The config file's overrides reach the rest too (all of them, not only the launcher's).
		expect(text).toContain('"launcher":"Спросите нас"');
		// A loader cached from an older build names an older rest: it gets the current one.
		const stale = await fetch(`${service.url}/widget/chat.0123456789abcdef.js`, {
			redirect: "manual",
		});
		expect(stale.status).toBe(302);
		expect(stale.headers.get("location")).toBe(path ?? "");
	});

	test("the older widget's stylesheets are answered, as CSS", async () => {
		for (const name of ["base.css", "modal.css"]) {
			const response = await get(`${service.url}/chat-widget/${name}`);
			expect(response.status).toBe(200);
			expect(response.headers.get("content-type")).toBe("text/css; charset=utf-8");
			expect(response.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
		}
		expect((await get(`${service.url}/chat-widget/other.css`)).status).toBe(404);
	});

	test("a page on an allowed site may load it, with CORS, and isolated sites too", async () => {
		const response = await get(`${service.url}/widget.js`, {
			origin: "https://shop.example.com",
		});
		expect(response.status).toBe(200);
		expect(response.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
		expect(response.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
	});
});

describe("the demo page", () => {
	test("shows the snippet for this deployment, the allowed sites and the bot's state", async () => {
		const response = await get(`${service.url}/`);
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
		const html = await response.text();
		expect(html).toContain(
			"&#60;script src=&#34;https://desk.example.com/widget.js&#34; async&#62;&#60;/script&#62;",
		);
		expect(html).toContain("<code>shop.example.com</code>");
		expect(html).toContain('<script src="/widget.js" async></script>');
		expect(html).toContain("The bot is configured");
		// Its own policy: the page runs only this service's script and its one stylesheet.
		const csp = response.headers.get("content-security-policy") ?? "";
		expect(csp).toContain("script-src 'self' https://desk.example.com");
		expect(csp).toContain("connect-src 'self' https://desk.example.com wss://desk.example.com");
		expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
	});

	test("without a bot it says that messages wait in the outbox", async () => {
		const html = await (await get(`${botless.url}/`)).text();
		expect(html).toContain("No Telegram bot yet");
		expect(html).toContain("wait in the outbox");
	});

	test("in production it only says whether the service is configured", async () => {
		const html = await (await get(`${production.url}/`)).text();
		expect(html).toContain("The support desk is running.");
		expect(html).not.toContain("widget.js");
	});
});
