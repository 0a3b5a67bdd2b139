import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { startWebSession } from "../src/core/sessions.ts";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { type ApiResponse, api, connectSocket, type Envelope } from "./support/web-client.ts";

// Small limits from the config file, so a test reaches them in a few calls.
// A bucket refills evenly over a minute: with 3 a minute the next token is 20 s away, far longer
// than any test here takes.
const configFile = { rateLimits: { message: 3, init: 2, read: 5 } };

let db: TestDatabase;
let service: RunningService;
/** The same limits behind a trusted proxy. */
let proxied: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	service = await startTestService({ db, configFile });
	proxied = await startTestService({ db, configFile, env: { TRUST_PROXY: "true" } });
});
afterAll(async () => {
	await service?.stop();
	await proxied?.stop();
	await db?.drop();
});

/**
 * A session made through the core, so the setup of the message and read tests spends none of
 * the per-IP init budget those tests do not measure.
 */
async function newSession(): Promise<string> {
	return (await startWebSession(service.core, undefined)).sessionId;
}

async function counts() {
	const [row] = await service.database.query<{ messages: string; sessions: string }>(
		sql`select (select count(*) from messages) as messages, (select count(*) from web_sessions) as sessions`,
	);
	return { messages: Number(row?.messages), sessions: Number(row?.sessions) };
}

function expectRateLimited(response: ApiResponse, maxWait: number) {
	expect(response.status).toBe(429);
	const body = response.body as Envelope;
	expect(body.success).toBe(false);
	expect(body.error.code).toBe("RATE_LIMITED");
	expect(body.error.message.length).toBeGreaterThan(0);
	const retryAfter = response.headers.get("retry-after") ?? "";
	expect(retryAfter).toMatch(/^\d+$/);
	expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
	expect(Number(retryAfter)).toBeLessThanOrEqual(maxWait);
}

const postMessage = (session: string, text: string, base = service.url) =>
	api(base, "POST", "/api/chat/message", { session, body: { text } });

describe("messages: one budget per customer over HTTP and WebSocket", () => {
	test("the 4th message in a minute, HTTP and WS mixed, is 429 with Retry-After; nothing stored", async () => {
		const session = await newSession();
		const socket = connectSocket(service.url, `?session=${session}`);
		await socket.next("connected");
		// Every message, whichever way it came, is echoed to the customer's sockets.
		expect((await postMessage(session, "one")).status).toBe(201);
		expect((await socket.next("message")).data.text).toBe("one");
		socket.send({ type: "message", text: "two" });
		expect((await socket.next("message")).data.text).toBe("two");
		expect((await postMessage(session, "three")).status).toBe(201);
		expect((await socket.next("message")).data.text).toBe("three");

		const before = await counts();
		expectRateLimited(await postMessage(session, "four"), 20);
		socket.send({ type: "message", text: "five" });
		expect((await socket.next("error")).data.code).toBe("RATE_LIMITED");
		expect(await counts()).toEqual(before);
		expect(socket.frames.map((f) => f.data.text).filter(Boolean)).toEqual(["one", "two", "three"]);
		socket.close();
	});

	test("a WS frame over the limit gets an error frame; the socket stays open and usable", async () => {
		const session = await newSession();
		const socket = connectSocket(service.url, `?session=${session}`);
		await socket.next("connected");
		for (const text of ["a", "b", "c"]) {
			socket.send({ type: "message", text });
			expect((await socket.next("message")).data.text).toBe(text);
		}
		const before = await counts();
		socket.send({ type: "message", text: "d", clientMessageId: "over-1" });
		const error = await socket.next("error");
		expect(error.data.code).toBe("RATE_LIMITED");
		expect(String(error.data.message).length).toBeGreaterThan(0);
		// Still open: frames are still handled (an unknown one is answered), nothing was stored.
		socket.send({ type: "nonsense" });
		expect((await socket.next("error")).data.code).toBe("INVALID_MESSAGE");
		expect(socket.ws.readyState).toBe(WebSocket.OPEN);
		expect(await counts()).toEqual(before);
		// The same clientMessageId is not burnt: it was never stored.
		const [row] = await service.database.query<{ n: string }>(
			sql`select count(*) as n from messages where client_message_id = 'over-1'`,
		);
		expect(Number(row?.n)).toBe(0);
		socket.close();
	});

	test("another customer's budget is untouched", async () => {
		const spender = await newSession();
		for (const text of ["1", "2", "3"]) expect((await postMessage(spender, text)).status).toBe(201);
		expectRateLimited(await postMessage(spender, "4"), 20);
		expect((await postMessage(await newSession(), "hello")).status).toBe(201);
	});
});

describe("reads: history per customer", () => {
	test("the 6th history read in a minute is 429; another customer still reads", async () => {
		const session = await newSession();
		for (let i = 0; i < 5; i++)
			expect((await api(service.url, "GET", "/api/chat/history", { session })).status).toBe(200);
		expectRateLimited(await api(service.url, "GET", "/api/chat/history", { session }), 12);
		const other = await newSession();
		expect((await api(service.url, "GET", "/api/chat/history", { session: other })).status).toBe(
			200,
		);
	});
});

describe("init: per client IP", () => {
	const init = (base: string, headers: Record<string, string> = {}) =>
		api(base, "POST", "/api/chat/init", { headers });

	test("the 3rd init from one address is 429, no session is made, X-Forwarded-For is ignored", async () => {
		expect((await init(service.url)).status).toBe(200);
		expect((await init(service.url)).status).toBe(200);
		const before = await counts();
		const third = await init(service.url);
		expectRateLimited(third, 30);
		expect(third.headers.get("set-cookie")).toBeNull();
		// Without TRUST_PROXY anyone could claim any address; the socket's peer is what counts.
		const claimed = await init(service.url, { "x-forwarded-for": "203.0.113.99" });
		expectRateLimited(claimed, 30);
		expect(await counts()).toEqual(before);
	});

	test("behind a trusted proxy, each forwarded client has its own budget", async () => {
		const alice = { "x-forwarded-for": "203.0.113.10" };
		const bob = { "x-forwarded-for": "198.51.100.20, 10.0.0.2" };
		expect((await init(proxied.url, alice)).status).toBe(200);
		expect((await init(proxied.url, alice)).status).toBe(200);
		const before = await counts();
		expectRateLimited(await init(proxied.url, alice), 30);
		// Prepending a made-up address does not escape: the rightmost untrusted hop is Alice.
		expectRateLimited(await init(proxied.url, { "x-forwarded-for": "1.2.3.4, 203.0.113.10" }), 30);
		expect(await counts()).toEqual(before);
		expect((await init(proxied.url, bob)).status).toBe(200);
		expect((await init(proxied.url, bob)).status).toBe(200);
		expectRateLimited(await init(proxied.url, bob), 30);
	});
});
