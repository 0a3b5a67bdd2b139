import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { api, connectSocket, type Envelope, initSession } from "./support/web-client.ts";

let db: TestDatabase;
let service: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	service = await startTestService({ db });
});
afterAll(async () => {
	await service?.stop();
	await db?.drop();
});

describe("web chat without a bot", () => {
	test("init issues a session with a cookie", async () => {
		const { sessionId, cookie, response } = await initSession(service.url);
		expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
		expect(response.body.data.isNewSession).toBe(true);
		expect(cookie).toContain(`webchat_session=${sessionId}`);
		expect(cookie).toContain("HttpOnly");
		expect(cookie).toContain("Max-Age=31536000");
	});

	test("a socket message is echoed, stored and paged", async () => {
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		const hello = await socket.next();
		expect(hello.type).toBe("connected");
		socket.send({ type: "message", text: "hello", clientMessageId: "c1" });
		const echo = await socket.next("message");
		expect(echo.data.text).toBe("hello");
		const history = await api<Envelope<{ messages: { text: string }[] }>>(
			service.url,
			"GET",
			"/api/chat/history",
			{ session: sessionId },
		);
		expect(history.body.data.messages.map((m) => m.text)).toEqual(["hello"]);
		socket.close();
	});
});
