/**
 * Tighter edges: history after a cursor is paged; a range reads only its bytes;
 * media are inline only from an allowlist and always sandboxed; production refuses http and
 * single-label ALLOWED_ORIGINS and short webhook secrets; idle sessions expire; `?session=` is for
 * the WebSocket only; a failed getMe is remembered briefly.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/index.ts";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

let db: TestDatabase | undefined;
let tg: TelegramDouble | undefined;
let service: RunningService | undefined;

afterEach(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
	service = undefined;
	tg = undefined;
	db = undefined;
});

async function start(configFile: Record<string, unknown> = {}, withBot = false) {
	db = await freshDatabase();
	if (withBot) tg = startTelegramDouble();
	service = await startTestService({ db, configFile, ...(tg ? { double: tg } : {}) });
	return service;
}

interface Page {
	messages: { id: string; text: string; fileUrl?: string; imageUrl?: string }[];
	hasMore: boolean;
}

const history = (running: RunningService, session: string, query: string) =>
	api<Envelope<Page>>(running.url, "GET", `/api/chat/history${query}`, { session });

function uploadBytes(running: RunningService, session: string, bytes: Uint8Array, name: string) {
	const form = new FormData();
	form.append("file", new File([bytes], name));
	return fetch(`${running.url}/api/chat/upload`, {
		method: "POST",
		headers: { "x-session-id": session },
		body: form,
	});
}

describe("history and media", () => {
	test("history?after= is capped by limit and says hasMore", async () => {
		const running = await start({ rateLimits: { message: 1000 } });
		const { sessionId } = await initSession(running.url);
		for (let i = 1; i <= 8; i++)
			await api(running.url, "POST", "/api/chat/message", {
				session: sessionId,
				body: { text: `m${i}` },
			});
		const all = await history(running, sessionId, "?limit=100");
		const first = all.body.data.messages.find((m) => m.text === "m1") as { id: string };
		const texts: string[] = [];
		let cursor = first.id;
		const pages: boolean[] = [];
		for (;;) {
			const page = await history(running, sessionId, `?after=${cursor}&limit=3`);
			expect(page.body.data.messages.length).toBeLessThanOrEqual(3);
			texts.push(...page.body.data.messages.map((m) => m.text));
			pages.push(page.body.data.hasMore);
			if (!page.body.data.hasMore) break;
			cursor = page.body.data.messages.at(-1)?.id as string;
		}
		expect(texts).toEqual(["m2", "m3", "m4", "m5", "m6", "m7", "m8"]);
		expect(pages).toEqual([true, true, false]);
	});

	test("Range: bytes=0-0 on a 20 MB file answers one byte; media are sandboxed attachments", async () => {
		const running = await start({ rateLimits: { upload: 100 } });
		const { sessionId } = await initSession(running.url);
		const size = 20 * 1024 * 1024;
		const bytes = new Uint8Array(size).fill(0x61);
		bytes[0] = 0x62;
		bytes[size - 1] = 0x7a;
		expect((await uploadBytes(running, sessionId, bytes, "big.txt")).status).toBe(201);
		const page = await history(running, sessionId, "");
		const url = page.body.data.messages[0]?.fileUrl as string;
		const first = await fetch(url, { headers: { range: "bytes=0-0" } });
		expect(first.status).toBe(206);
		expect(first.headers.get("content-range")).toBe(`bytes 0-0/${size}`);
		expect(first.headers.get("content-length")).toBe("1");
		expect(new TextDecoder().decode(await first.arrayBuffer())).toBe("b");
		const last = await fetch(url, { headers: { range: "bytes=-1" } });
		expect(new TextDecoder().decode(await last.arrayBuffer())).toBe("z");
		// Not an inline type: a sandboxed download, never shown as a page of this origin.
		expect(first.headers.get("content-security-policy")).toBe("sandbox");
		expect(first.headers.get("content-disposition")).toStartWith("attachment");
		expect(first.headers.get("content-type")).toBe("application/octet-stream");
		const beyond = await fetch(url, { headers: { range: `bytes=${size}-` } });
		expect(beyond.status).toBe(416);
	}, 60_000);

	test("an allowlisted image is inline, still sandboxed", async () => {
		const running = await start();
		const { sessionId } = await initSession(running.url);
		const png = Uint8Array.from(
			atob(
				"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
			),
			(c) => c.charCodeAt(0),
		);
		expect((await uploadBytes(running, sessionId, png, "dot.png")).status).toBe(201);
		const page = await history(running, sessionId, "");
		const response = await fetch(page.body.data.messages[0]?.imageUrl as string);
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("image/png");
		expect(response.headers.get("content-disposition")).toStartWith("inline");
		expect(response.headers.get("content-security-policy")).toBe("sandbox");
	});
});

describe("sessions", () => {
	test("a session idle longer than session.idle is expired: 401, and init starts a new one", async () => {
		const running = await start({ session: { idle: "1s" } });
		const { sessionId } = await initSession(running.url);
		expect((await history(running, sessionId, "")).status).toBe(200);
		// The idle period itself has to pass: nothing touches the session meanwhile.
		await Bun.sleep(1300);
		expect((await history(running, sessionId, "")).status).toBe(401);
		const again = await api<Envelope<{ sessionId: string; isNewSession: boolean }>>(
			running.url,
			"POST",
			"/api/chat/init",
			{ session: sessionId },
		);
		expect(again.body.data.isNewSession).toBe(true);
		expect(again.body.data.sessionId).not.toBe(sessionId);
	});

	test("a session in use does not expire", async () => {
		const running = await start({ session: { idle: "2s" } });
		const { sessionId } = await initSession(running.url);
		for (let i = 0; i < 6; i++) {
			await Bun.sleep(500);
			expect((await history(running, sessionId, "")).status).toBe(200);
		}
	});

	test("?session= is accepted on the WebSocket upgrade only, not over HTTP", async () => {
		const running = await start();
		const { sessionId } = await initSession(running.url);
		const byQuery = await api(running.url, "GET", `/api/chat/history?session=${sessionId}`);
		expect(byQuery.status).toBe(401);
		const init = await api<Envelope<{ sessionId: string }>>(
			running.url,
			"POST",
			`/api/chat/init?session=${sessionId}`,
		);
		expect(init.body.data.sessionId).not.toBe(sessionId);
		const socket = connectSocket(running.url, `?session=${sessionId}`);
		expect((await socket.next("connected")).data.sessionId).toBe(sessionId);
		socket.close();
	});
});

describe("production settings", () => {
	const production = (extra: Record<string, string>) =>
		loadConfig({ NODE_ENV: "production", ...extra });

	test.each([
		"http://shop.example.com",
		"intranet",
		"localhost",
		"example.com, ftp://files.example.com",
	])("ALLOWED_ORIGINS=%p is refused in production", (value) => {
		const result = production({ ALLOWED_ORIGINS: value });
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.errors[0]).toStartWith("ALLOWED_ORIGINS: in production");
	});

	test.each(["shop.example.com", "https://example.org, пример.рф"])(
		"ALLOWED_ORIGINS=%p is accepted in production",
		(value) => {
			expect(production({ ALLOWED_ORIGINS: value }).ok).toBe(true);
		},
	);

	test("a webhook secret shorter than 32 characters is refused", () => {
		const result = loadConfig({ TELEGRAM_WEBHOOK_SECRET: "a".repeat(31) });
		expect(result.ok).toBe(false);
		expect(loadConfig({ TELEGRAM_WEBHOOK_SECRET: "a".repeat(32) }).ok).toBe(true);
	});
});

describe("bot profile", () => {
	test("a failed getMe is remembered briefly: a burst of /ask-support asks Telegram once", async () => {
		const running = await start({}, true);
		const double = tg as TelegramDouble;
		// The startup checks may ask getMe themselves: let them, then fail what comes next.
		await double.waitForCall("getMe").catch(() => undefined);
		double.failNext("getMe", 10, { error_code: 500, description: "Internal Server Error" });
		const since = double.calls.length;
		const ask = () =>
			fetch(`${running.url}/ask-support`, {
				redirect: "manual",
				headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" },
			});
		const statuses = [];
		for (let i = 0; i < 5; i++) statuses.push((await ask()).status);
		expect(statuses).toEqual([503, 503, 503, 503, 503]);
		expect(double.calls.slice(since).filter((c) => c.method === "getMe")).toHaveLength(1);
	});
});
