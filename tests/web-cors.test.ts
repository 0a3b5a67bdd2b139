import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import {
	type ApiResponse,
	api,
	connectSocket,
	type Envelope,
	initSession,
} from "./support/web-client.ts";

const OWN = "https://desk.support.test";

let db: TestDatabase;
/** Development-like (NODE_ENV=test), domains written as a site owner would: bare, one in Unicode. */
let service: RunningService;
/** Production, the IDN configured in punycode and a subdomain configured instead of a site. */
let production: RunningService;

// Many sessions start from 127.0.0.1 here; the per-IP init limit has its own test file.
const configFile = { rateLimits: { init: 1000 } };

beforeAll(async () => {
	db = await freshDatabase();
	service = await startTestService({
		db,
		configFile,
		env: { ALLOWED_ORIGINS: "example.com,пример.рф", PUBLIC_URL: OWN },
	});
	production = await startTestService({
		db,
		configFile,
		env: {
			ALLOWED_ORIGINS: "xn--e1afmkfd.xn--p1ai, help.example.org",
			PUBLIC_URL: OWN,
			NODE_ENV: "production",
		},
	});
});
afterAll(async () => {
	await service?.stop();
	await production?.stop();
	await db?.drop();
});

async function counts() {
	const [row] = await service.database.query<{ messages: string; sessions: string }>(
		sql`select (select count(*) from messages) as messages, (select count(*) from web_sessions) as sessions`,
	);
	return { messages: Number(row?.messages), sessions: Number(row?.sessions) };
}

function expectAllowed(response: ApiResponse, origin: string) {
	expect(response.headers.get("access-control-allow-origin")).toBe(origin);
	expect(response.headers.get("access-control-allow-credentials")).toBe("true");
	expect(response.headers.get("vary")).toContain("Origin");
}

function expectRefused(response: ApiResponse) {
	expect(response.status).toBe(403);
	const body = response.body as Envelope;
	expect(body.success).toBe(false);
	expect(body.error.code).toBe("ORIGIN_NOT_ALLOWED");
	expect(body.error.message.length).toBeGreaterThan(0);
	expect(response.headers.get("access-control-allow-origin")).toBeNull();
	expect(response.headers.get("access-control-allow-credentials")).toBeNull();
}

const init = (base: string, origin: string) =>
	api(base, "POST", "/api/chat/init", { headers: { origin } });

describe("allowed origins", () => {
	test.each([
		"https://example.com",
		"https://shop.example.com",
		"http://a.b.example.com:8080",
		"https://xn--e1afmkfd.xn--p1ai",
		"https://shop.xn--e1afmkfd.xn--p1ai",
		OWN,
		"http://localhost:5173",
		"http://127.0.0.1:3000",
	])("%s may start a session and gets the CORS headers", async (origin) => {
		const response = await init(service.url, origin);
		expect(response.status).toBe(200);
		expectAllowed(response, origin);
		expect(response.headers.get("set-cookie")).toContain("webchat_session=");
	});

	test("an IDN configured in punycode allows the site and its subdomains too", async () => {
		for (const origin of ["https://xn--e1afmkfd.xn--p1ai", "https://www.xn--e1afmkfd.xn--p1ai"]) {
			const response = await init(production.url, origin);
			expect(response.status).toBe(200);
			expectAllowed(response, origin);
		}
	});

	test("in production the own origin and configured domains pass, localhost does not", async () => {
		expectAllowed(await init(production.url, OWN), OWN);
		expectAllowed(
			await init(production.url, "https://help.example.org"),
			"https://help.example.org",
		);
		for (const origin of ["http://localhost:5173", "http://127.0.0.1:3000", "https://example.com"])
			expectRefused(await init(production.url, origin));
	});

	test("errors reach an allowed widget with the CORS headers, so it can read them", async () => {
		const origin = "https://shop.example.com";
		const response = await api(service.url, "GET", "/api/chat/history", {
			session: crypto.randomUUID(),
			headers: { origin },
		});
		expect(response.status).toBe(401);
		expect((response.body as Envelope).error.code).toBe("SESSION_NOT_FOUND");
		expectAllowed(response, origin);
	});

	test("a request without Origin is served, without CORS headers but with Vary", async () => {
		const response = await api(service.url, "POST", "/api/chat/init");
		expect(response.status).toBe(200);
		expect(response.headers.get("access-control-allow-origin")).toBeNull();
		expect(response.headers.get("vary")).toContain("Origin");
		expect((await api(service.url, "GET", "/health")).headers.get("vary")).toContain("Origin");
	});
});

describe("disallowed origins", () => {
	test.each([
		["a suffix attack", "https://evilexample.com"],
		["a domain as a prefix", "https://example.com.evil.net"],
		["the parent of an IDN", "https://xn--p1ai"],
		["a top-level domain", "https://com"],
		["another scheme of the own origin", "http://desk.support.test"],
		["the null origin", "null"],
		["a non-web scheme", "chrome-extension://abcdefgh"],
		["a lookalike of localhost", "http://localhost.evil.net"],
	])("%s (%s): 403, no session, nothing stored", async (_name, origin) => {
		const before = await counts();
		const response = await init(service.url, origin);
		expectRefused(response);
		expect(response.headers.get("set-cookie")).toBeNull();
		expect(await counts()).toEqual(before);
	});

	test("the parent of a configured subdomain is refused", async () => {
		expectRefused(await init(production.url, "https://example.org"));
		expectRefused(await init(production.url, "https://other.example.org"));
	});

	test("a message from a disallowed origin is not stored, even with a valid session", async () => {
		const { sessionId } = await initSession(service.url);
		const before = await counts();
		const response = await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			headers: { origin: "https://evilexample.com" },
			body: { text: "steal this", clientMessageId: "evil-1" },
		});
		expectRefused(response);
		expect(await counts()).toEqual(before);
		const history = await api<Envelope<{ messages: unknown[] }>>(
			service.url,
			"GET",
			"/api/chat/history",
			{ session: sessionId, headers: { origin: "https://example.com.evil.net" } },
		);
		expectRefused(history);
	});
});

describe("preflight", () => {
	test("an allowed origin gets 204 with methods, headers and max age", async () => {
		const origin = "https://shop.example.com";
		const response = await fetch(`${service.url}/api/chat/message`, {
			method: "OPTIONS",
			headers: {
				origin,
				"access-control-request-method": "POST",
				"access-control-request-headers": "content-type, x-session-id",
			},
		});
		expect(response.status).toBe(204);
		expect(await response.text()).toBe("");
		expect(response.headers.get("access-control-allow-origin")).toBe(origin);
		expect(response.headers.get("access-control-allow-credentials")).toBe("true");
		expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
		expect(response.headers.get("access-control-allow-headers")).toBe("Content-Type, X-Session-Id");
		expect(response.headers.get("access-control-max-age")).toBe("600");
		expect(response.headers.get("vary")).toContain("Origin");
	});

	test("a disallowed origin's preflight is a 403 envelope without CORS headers", async () => {
		const response = await api(service.url, "OPTIONS", "/api/chat/message", {
			headers: { origin: "https://evilexample.com", "access-control-request-method": "POST" },
		});
		expectRefused(response);
		expect(response.headers.get("access-control-allow-methods")).toBeNull();
	});
});

describe("WebSocket origin check", () => {
	test("a disallowed Origin is closed with 4003, even with a valid session", async () => {
		const { sessionId } = await initSession(service.url);
		const before = await counts();
		const socket = connectSocket(service.url, `?session=${sessionId}`, {
			headers: { origin: "https://evilexample.com" },
		});
		socket.send({ type: "message", text: "should not be stored" });
		expect(await socket.closed).toEqual({ code: 4003, reason: "Origin not allowed" });
		expect(socket.frames).toEqual([]);
		expect(await counts()).toEqual(before);
	});

	test("an allowed Origin connects; an unknown session still gets 4001", async () => {
		const { sessionId } = await initSession(service.url);
		const headers = { origin: "https://xn--e1afmkfd.xn--p1ai" };
		const socket = connectSocket(service.url, `?session=${sessionId}`, { headers });
		expect((await socket.next()).type).toBe("connected");
		socket.close();
		const stranger = connectSocket(service.url, `?session=${crypto.randomUUID()}`, { headers });
		expect(await stranger.closed).toEqual({ code: 4001, reason: "Session not found" });
	});

	test("in production localhost is refused on the socket too", async () => {
		const { sessionId } = await initSession(production.url);
		const socket = connectSocket(production.url, `?session=${sessionId}`, {
			headers: { origin: "http://localhost:5173" },
		});
		expect((await socket.closed).code).toBe(4003);
	});
});

describe("security headers", () => {
	function expectSecurityHeaders(response: ApiResponse) {
		expect(response.headers.get("x-content-type-options")).toBe("nosniff");
		expect(response.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
		expect(response.headers.get("content-security-policy")).toBe(
			"default-src 'none'; frame-ancestors 'none'",
		);
		// The widget may be framed by the sites it serves.
		expect(response.headers.get("x-frame-options")).toBeNull();
	}

	test("on a 404, a 403, a 400, a success and a preflight", async () => {
		const notFound = await api(service.url, "GET", "/api/nope");
		expect(notFound.status).toBe(404);
		expectSecurityHeaders(notFound);
		expectSecurityHeaders(await init(service.url, "https://evilexample.com"));
		const bad = await api(service.url, "POST", "/api/chat/message", {
			session: crypto.randomUUID(),
			rawBody: "{",
		});
		expect(bad.status).toBe(400);
		expectSecurityHeaders(bad);
		expectSecurityHeaders(await api(service.url, "GET", "/health"));
		expectSecurityHeaders(
			await api(service.url, "OPTIONS", "/api/chat/init", {
				headers: { origin: "https://example.com" },
			}),
		);
	});
});
