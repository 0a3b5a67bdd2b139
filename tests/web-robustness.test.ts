/**
 * Throws generated malformed requests and frames at every route and asserts what a client and
 * the desk would observe: never a 5xx, always the envelope, nothing stored, nothing sent to
 * Telegram, and the service still serving afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { sql } from "drizzle-orm";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "./support/telegram-double.ts";
import { connectSocket, initSession } from "./support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
let session: string;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	// Limits raised so that the flood of bad requests is judged on its content, not throttled.
	service = await startTestService({
		db,
		double: tg,
		configFile: {
			rateLimits: {
				init: 100_000,
				message: 100_000,
				upload: 100_000,
				read: 100_000,
				link: 100_000,
				widgetErrors: 100_000,
			},
		},
	});
	session = (await initSession(service.url)).sessionId;
});
afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
});

/** mulberry32: the same generated cases on every run. */
function random(seed: number) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = Math.imul(a ^ (a >>> 15), a | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const weirdValues: unknown[] = [
	null,
	true,
	0,
	-1,
	1e308,
	"",
	" ",
	"x".repeat(5000),
	[],
	{},
	[1, "2", null],
	{ $ne: null },
	"<script>alert(1)</script>",
	"'; drop table messages; --",
	"../../../../etc/passwd",
	"\u0000\u0001\u0002",
	"😀".repeat(2100),
	{ __proto__: { polluted: true } },
];

interface Case {
	method: string;
	path: string;
	headers: Record<string, string>;
	body?: string | Uint8Array;
}

function generateCases(count: number): Case[] {
	const next = random(20261124);
	const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)] as T;
	const routes: [string, string][] = [
		["POST", "/api/chat/init"],
		["GET", "/api/chat/history"],
		["GET", "/api/chat/status"],
		["POST", "/api/chat/message"],
		["POST", "/api/chat/upload"],
		["POST", "/api/chat/link-telegram"],
		["POST", "/api/chat/close"],
		["GET", "/api/chat/bot-info"],
		["GET", "/api/media/00000000-0000-4000-8000-000000000000"],
		["POST", "/api/widget/errors"],
		["GET", "/ask-support"],
		["GET", "/health"],
		["DELETE", "/api/chat/message"],
		["PUT", "/api/chat/init"],
		["GET", "/api/chat/../../etc/passwd"],
		["GET", "/api/%2e%2e/%2e%2e/secret"],
	];
	const bodies: (() => { body: string | Uint8Array; type?: string })[] = [
		() => ({ body: JSON.stringify(pick(weirdValues)), type: "application/json" }),
		() => ({
			body: JSON.stringify({
				text: pick(weirdValues),
				replyTo: pick(weirdValues),
				clientMessageId: pick(weirdValues),
			}),
			type: "application/json",
		}),
		() => ({
			body: JSON.stringify({
				rating: pick(weirdValues),
				feedback: pick(weirdValues),
				resolved: pick(weirdValues),
			}),
			type: "application/json",
		}),
		() => ({
			body: JSON.stringify({ errors: pick(weirdValues), pageUrl: pick(weirdValues) }),
			type: "application/json",
		}),
		() => ({ body: '{"text": "unterminated', type: "application/json" }),
		() => ({ body: nested(5000), type: "application/json" }),
		() => ({
			body: new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]),
			type: "application/json",
		}),
		() => ({ body: "null", type: "application/json" }),
		() => ({ body: "text=hello", type: "application/x-www-form-urlencoded" }),
		() => ({ body: "<xml/>", type: "application/xml" }),
		() => ({
			body: '--x\r\nContent-Disposition: form-data; name="file"; filename="../../a.exe"\r\n\r\nMZ\r\n--x--',
			type: "multipart/form-data; boundary=x",
		}),
		() => ({ body: "--x\r\nbroken", type: "multipart/form-data; boundary=x" }),
		() => ({ body: crypto.getRandomValues(new Uint8Array(64)) }),
	];
	const queries = [
		"",
		"?limit=abc",
		"?limit=-5",
		"?before=../../x",
		"?after=%00",
		"?limit=1e9",
		"?session=%27%20or%201=1",
		"?url=javascript:alert(1)",
		"?exp=1&sig=zz",
		"?limit[]=1",
	];
	const sessions = [
		session,
		"",
		"not-a-session",
		crypto.randomUUID(),
		"00000000-0000-0000-0000-000000000000",
		"x".repeat(300),
	];
	const cases: Case[] = [];
	for (let i = 0; i < count; i++) {
		const [method, path] = pick(routes);
		const headers: Record<string, string> = {};
		const who = pick(sessions);
		if (who) headers["x-session-id"] = who;
		if (next() < 0.3)
			headers.origin = pick([
				"https://evil.example",
				"null",
				"http://localhost:3000",
				"https://evilexample.com",
			]);
		if (next() < 0.2) headers["user-agent"] = pick(["Googlebot", "", "Mozilla/5.0"]);
		const testCase: Case = { method, path: `${path}${pick(queries)}`, headers };
		if (method !== "GET") {
			const made = pick(bodies)();
			testCase.body = made.body;
			if (made.type) headers["content-type"] = made.type;
		}
		cases.push(testCase);
	}
	return cases;
}

async function counts() {
	const [row] = await service.database.query<{ messages: string; media: string; outbox: string }>(
		sql`select (select count(*) from messages) as messages, (select count(*) from media) as media,
			(select count(*) from outbox) as outbox`,
	);
	return row;
}

/**
 * Bot API methods that put something in a chat or change it. `deleteWebhook` is not one: the
 * poller clears a webhook whenever it starts polling, which may be while a test runs (it polls
 * once it holds the instances' lock), and a CI run once caught it there.
 */
const SENDING = /^(send|copy|forward|edit|delete(?!Webhook)|pin|create|close|reopen)/i;

describe("robustness", () => {
	test("600 generated malformed requests: no 5xx, always the envelope, nothing stored or sent", async () => {
		const before = await counts();
		const callsBefore = tg.calls.length;
		const cases = generateCases(600);
		for (const c of cases) {
			const response = await fetch(`${service.url}${c.path}`, {
				method: c.method,
				headers: c.headers,
				body: c.body,
				redirect: "manual",
			});
			const text = await response.text();
			const where = `${c.method} ${c.path} ${JSON.stringify(c.headers)}`;
			expect(response.status, where).toBeLessThan(500);
			if (response.status >= 400) {
				const body = JSON.parse(text) as {
					success: boolean;
					error: { code: string; message: string };
				};
				expect(body.success, where).toBe(false);
				expect(body.error.code, where).toMatch(/^[A-Z_]+$/);
				expect(body.error.message.length, where).toBeGreaterThan(0);
				expect(text, where).not.toMatch(
					/\bat .*\.(ts|js):\d+|stack|Elysia|TypeBox|drizzle|postgres|SQL|select /i,
				);
			}
		}
		expect(await counts()).toEqual(before);
		expect(tg.calls.slice(callsBefore).filter((c) => SENDING.test(c.method))).toEqual([]);
		expect((await fetch(`${service.url}/health`)).status).toBe(200);
	}, 120_000);

	test("header injection and raw protocol garbage are refused without harm", async () => {
		const port = new URL(service.url).port;
		const raw = (payload: string) =>
			new Promise<string>((resolve) => {
				const socket = connect(Number(port), "127.0.0.1", () => socket.end(payload));
				let answer = "";
				socket.on("data", (chunk) => {
					answer += chunk.toString("latin1");
				});
				socket.on("close", () => resolve(answer));
				socket.on("error", () => resolve(answer));
			});
		const answers = await Promise.all([
			raw(
				`GET /api/chat/history HTTP/1.1\r\nHost: x\r\nX-Session-Id: ${session}\r\nX-Evil: a\r\n\r\nSet-Cookie: pwned=1\r\n\r\n`,
			),
			raw(
				"GET /api/chat/status HTTP/1.1\r\nHost: x\r\nX-Session-Id: abc\r\n injected: yes\r\n\r\n",
			),
			raw("\u0000\u0001\u0002 garbage \r\n\r\n"),
			raw(
				`POST /api/chat/message HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999\r\nX-Session-Id: ${session}\r\n\r\n{"text":"short"}`,
			),
		]);
		for (const answer of answers) {
			expect(answer).not.toMatch(/^HTTP\/1\.1 5/);
			expect(answer.toLowerCase()).not.toContain("set-cookie: pwned");
		}
		expect((await fetch(`${service.url}/health`)).status).toBe(200);
	});

	test("200 generated malformed frames: error frames, socket open, nothing stored or sent", async () => {
		const before = await counts();
		const callsBefore = tg.calls.length;
		const socket = connectSocket(service.url, `?session=${session}`);
		await socket.next("connected");
		const next = random(42);
		const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)] as T;
		let expectedErrors = 0;
		for (let i = 0; i < 200; i++) {
			const shape = i % 5;
			if (shape === 0)
				socket.sendRaw(pick(["", "{", "[]", "null", "42", '"text"', nested(2000), '{"type":']));
			else if (shape === 1) socket.send({ type: pick(weirdValues) });
			else if (shape === 2)
				socket.send({ type: "message", text: pick([null, "", " ", 7, [], {}, "x".repeat(4001)]) });
			else if (shape === 3)
				socket.send({ type: "message", data: { text: pick([null, "", 7, "y".repeat(4001)]) } });
			else socket.sendRaw(crypto.getRandomValues(new Uint8Array(32)).buffer);
			expectedErrors++;
		}
		for (let i = 0; i < expectedErrors; i++) await socket.next("error", 10_000);
		expect(socket.ws.readyState).toBe(WebSocket.OPEN);
		expect(await counts()).toEqual(before);
		expect(tg.calls.slice(callsBefore).filter((c) => SENDING.test(c.method))).toEqual([]);
		socket.close();
	}, 60_000);
});
