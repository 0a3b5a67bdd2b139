import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { api, connectSocket, type Envelope, initSession } from "./support/web-client.ts";

let db: TestDatabase;
let service: RunningService;
let session: string;

beforeAll(async () => {
	db = await freshDatabase();
	service = await startTestService({ db });
	session = (await initSession(service.url)).sessionId;
});
afterAll(async () => {
	await service?.stop();
	await db?.drop();
});

async function counts() {
	const [row] = await service.database.query<{ messages: string; outbox: string }>(
		sql`select (select count(*) from messages) as messages, (select count(*) from outbox) as outbox`,
	);
	return { messages: Number(row?.messages), outbox: Number(row?.outbox) };
}

function expectEnvelope(response: { status: number; body: unknown }, status: number, code: string) {
	expect(response.status).toBe(status);
	const body = response.body as Envelope;
	expect(body.success).toBe(false);
	expect(body.error.code).toBe(code);
	expect(typeof body.error.message).toBe("string");
	expect(body.error.message.length).toBeGreaterThan(0);
	expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|Elysia|TypeBox|postgres|drizzle|select /i);
}

describe("bad input over HTTP", () => {
	const cases: [string, Parameters<typeof api>[3], number, string][] = [
		["malformed JSON", { rawBody: '{"text": "hi"' }, 400, "INVALID_JSON"],
		["a number for text", { body: { text: 5 } }, 400, "INVALID_MESSAGE"],
		["no text", { body: {} }, 400, "INVALID_MESSAGE"],
		["an empty text", { body: { text: "" } }, 400, "INVALID_MESSAGE"],
		["a blank text", { body: { text: "   \n " } }, 400, "INVALID_MESSAGE"],
		["a 4001-character text", { body: { text: "x".repeat(4001) } }, 400, "MESSAGE_TOO_LONG"],
		["an array body", { body: ["hi"] }, 400, "INVALID_MESSAGE"],
		["a null body", { rawBody: "null" }, 400, "INVALID_MESSAGE"],
		[
			"a replyTo of nobody's message",
			{ body: { text: "hi", replyTo: crypto.randomUUID() } },
			400,
			"INVALID_MESSAGE",
		],
		[
			"text/plain",
			{ rawBody: "hello", headers: { "content-type": "text/plain" } },
			415,
			"UNSUPPORTED_MEDIA_TYPE",
		],
		["a body over 1 MB", { body: { text: "x".repeat(1_100_000) } }, 413, "PAYLOAD_TOO_LARGE"],
	];
	for (const [name, options, status, code] of cases) {
		test(`POST /api/chat/message with ${name}: ${status} ${code}, nothing stored`, async () => {
			const before = await counts();
			const response = await api(service.url, "POST", "/api/chat/message", {
				session,
				...options,
			});
			expectEnvelope(response, status, code);
			expect(await counts()).toEqual(before);
		});
	}

	test("exactly 4000 characters is accepted", async () => {
		const response = await api(service.url, "POST", "/api/chat/message", {
			session,
			body: { text: "y".repeat(4000) },
		});
		expect(response.status).toBe(201);
	});

	test("an unknown or malformed session is 401 SESSION_NOT_FOUND", async () => {
		for (const id of [crypto.randomUUID(), "not-a-uuid", "'; drop table messages; --"]) {
			const before = await counts();
			const response = await api(service.url, "POST", "/api/chat/message", {
				session: id,
				body: { text: "hi" },
			});
			expectEnvelope(response, 401, "SESSION_NOT_FOUND");
			expectEnvelope(
				await api(service.url, "GET", "/api/chat/history", { session: id }),
				401,
				"SESSION_NOT_FOUND",
			);
			expect(await counts()).toEqual(before);
		}
		expectEnvelope(await api(service.url, "GET", "/api/chat/history"), 401, "SESSION_NOT_FOUND");
	});

	test("garbage in limit, or both before and after, is 400 INVALID_PARAMS", async () => {
		for (const query of [
			"limit=0",
			"limit=101",
			"limit=abc",
			"limit=1.5",
			"limit=-1",
			"before=zzz&limit=abc",
			`before=${crypto.randomUUID()}&after=${crypto.randomUUID()}`,
		]) {
			const response = await api(service.url, "GET", `/api/chat/history?${query}`, { session });
			expectEnvelope(response, 400, "INVALID_PARAMS");
		}
	});

	test("a cursor that is not a message of this chat answers an empty page", async () => {
		for (const query of [
			"before=zzz",
			"after=tmp-123",
			"after=1%27%20or%201%3D1",
			`after=${crypto.randomUUID()}`,
			`before=${crypto.randomUUID()}`,
		]) {
			const response = await api(service.url, "GET", `/api/chat/history?${query}`, { session });
			expect(response.status).toBe(200);
			expect(response.body as unknown).toEqual({
				success: true,
				data: { messages: [], hasMore: false, oldestId: null },
			});
		}
	});

	test("an unknown route is a 404 envelope", async () => {
		expectEnvelope(await api(service.url, "GET", "/api/nope"), 404, "NOT_FOUND");
		expectEnvelope(await api(service.url, "GET", "/../../etc/passwd"), 404, "NOT_FOUND");
	});
});

describe("bad input over the WebSocket", () => {
	test("an unknown session is closed with 4001", async () => {
		const socket = connectSocket(service.url, `?session=${crypto.randomUUID()}`);
		expect(await socket.closed).toEqual({ code: 4001, reason: "Session not found" });
		const none = connectSocket(service.url, "");
		expect((await none.closed).code).toBe(4001);
	});

	test("bad frames get an error frame, nothing is stored, the socket stays open", async () => {
		const socket = connectSocket(service.url, `?session=${session}`);
		await socket.next("connected");
		const before = await counts();
		const bad: [unknown, string][] = [
			[{ type: "message", text: "" }, "INVALID_MESSAGE"],
			[{ type: "message", text: 42 }, "INVALID_MESSAGE"],
			[{ type: "message", text: "z".repeat(4001) }, "MESSAGE_TOO_LONG"],
			[{ type: "launch-rockets" }, "INVALID_MESSAGE"],
			[[1, 2, 3], "INVALID_MESSAGE"],
		];
		for (const [frame, code] of bad) {
			socket.send(frame);
			const error = await socket.next("error");
			expect(error.data.code).toBe(code);
		}
		socket.sendRaw("this is not json");
		expect((await socket.next("error")).data.code).toBe("INVALID_MESSAGE");
		expect(await counts()).toEqual(before);
		socket.send({ type: "message", text: "still alive" });
		expect((await socket.next("message")).data.text).toBe("still alive");
		socket.close();
	});

	test("a frame over 64 KiB closes the socket with 1009; the service keeps serving", async () => {
		const socket = connectSocket(service.url, `?session=${session}`);
		await socket.next("connected");
		const before = await counts();
		socket.sendRaw(JSON.stringify({ type: "message", text: "x".repeat(70 * 1024) }));
		expect((await socket.closed).code).toBe(1009);
		expect(await counts()).toEqual(before);
		expect((await api(service.url, "GET", "/health")).status).toBe(200);
	});
});
