/**
 * WebSocket events that come from the desk's side: operator edits (`message_edited`), the
 * customer closing from the socket (`status`, `TICKET_CLOSED`), and readiness of the bot.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { freePort } from "../support/process.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	service = await startTestService({ db, double: tg });
});
afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
});

async function customerInTopic(text: string) {
	const { sessionId } = await initSession(service.url);
	const socket = connectSocket(service.url, `?session=${sessionId}`);
	await socket.next("connected");
	socket.send({ type: "message", text });
	const call = await tg.waitForCall((c) => showsText(c, `[WEB] ${text}`) && c.ok);
	return { sessionId, socket, threadId: Number(call.params.message_thread_id) };
}

describe("events from the desk", () => {
	test("an operator's edit reaches the widget as message_edited and changes history", async () => {
		const { sessionId, socket, threadId } = await customerInTopic("typo check");
		const posted = tg.operatorPosts(threadId, "Helo");
		const original = await socket.next((f) => f.type === "message" && f.data.from === "support");
		tg.operatorEdits(threadId, posted.message_id, "Hello");
		const edited = await socket.next("message_edited");
		expect(edited.data).toEqual({
			id: original.data.id,
			text: "Hello",
			editedAt: expect.any(String),
		});
		const history = await api<
			Envelope<{ messages: { id: string; text: string; editedAt?: string }[] }>
		>(service.url, "GET", "/api/chat/history?limit=1", { session: sessionId });
		expect(history.body.data.messages[0]).toMatchObject({
			id: original.data.id,
			text: "Hello",
			editedAt: expect.any(String),
		});
		socket.close();
	});

	test("close over the socket: status CLOSED to every tab, rating shown in the topic, then TICKET_CLOSED", async () => {
		const { sessionId, socket, threadId } = await customerInTopic("all good now");
		const tab = connectSocket(service.url, `?session=${sessionId}`);
		await tab.next("connected");
		socket.send({ type: "close", resolved: true, rating: 4 });
		expect((await socket.next("status")).data).toEqual({ status: "CLOSED" });
		expect((await tab.next("status")).data).toEqual({ status: "CLOSED" });
		const rated = await tg.waitForCall(
			(c) => c.params.text === "The customer rated the support 4/5.",
		);
		expect(Number(rated.params.message_thread_id)).toBe(threadId);
		socket.send({ type: "close" });
		expect((await socket.next("error")).data.code).toBe("TICKET_CLOSED");
		socket.send({ type: "close", rating: 11 });
		expect((await socket.next("error")).data.code).toBe("INVALID_MESSAGE");
		expect(socket.ws.readyState).toBe(WebSocket.OPEN);
		socket.close();
		tab.close();
	});
});

describe("readiness", () => {
	test("/health/ready is 503 naming the bot while Telegram cannot be polled, 200 otherwise", async () => {
		const ready = await fetch(`${service.url}/health/ready`);
		expect(ready.status).toBe(200);
		// Another bot: with the same one on PostgreSQL, this instance would stand by (ready) while
		// the first service polls.
		const unreachable = await startTestService({
			db,
			double: {
				url: `http://127.0.0.1:${freePort()}`,
				token: "654321:OTHER-bot",
				groupId: tg.groupId,
			},
		});
		try {
			let response = await fetch(`${unreachable.url}/health/ready`);
			for (let i = 0; i < 30 && response.status === 200; i++) {
				await Bun.sleep(100);
				response = await fetch(`${unreachable.url}/health/ready`);
			}
			expect(response.status).toBe(503);
			const body = (await response.json()) as Envelope;
			expect(body.error.code).toBe("NOT_READY");
			expect(body.error.message).toContain("bot");
			expect((await fetch(`${unreachable.url}/health`)).status).toBe(200);
		} finally {
			await unreachable.stop();
		}
	});
});
