/**
 * The central flow, end to end: a widget over a real WebSocket, the service, the Bot API double
 * over real HTTP long polling, and an operator answering in the topic.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { socketMarker, waitForOutboxIdle } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;

const start = () =>
	startTestService({ db, double: tg, configFile: { telegram: { pollTimeout: "2s" } } });

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	service = await start();
});
afterEach(() => {
	tg.clearFloodLimits();
	tg.setFaultRate(null);
});
afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
});

/** A customer with an open widget. */
async function customer() {
	const { sessionId } = await initSession(service.url);
	const socket = connectSocket(service.url, `?session=${sessionId}`);
	await socket.next("connected");
	return { sessionId, socket };
}

/** The topic the service created for the text (found by the message it sent there). */
async function topicOf(text: string, since = 0) {
	const call = await tg.waitForCall(
		(c) => c.method === "sendMessage" && showsText(c, text) && c.ok,
		{ since, timeoutMs: 10_000 },
	);
	return Number(call.params.message_thread_id);
}

describe("web → topic → web", () => {
	test("a widget message lands in a new topic as [WEB] text and is echoed to the widget", async () => {
		const since = tg.calls.length;
		const { sessionId, socket } = await customer();
		socket.send({ type: "message", text: "Where is my order?", clientMessageId: "m-1" });
		const echo = await socket.next("message");
		expect(echo.data).toMatchObject({
			text: "Where is my order?",
			from: "user",
			channel: "web",
			clientMessageId: "m-1",
		});
		const created = await tg.waitForCall("createForumTopic", { since });
		expect(created.params).toMatchObject({
			chat_id: tg.groupId,
			name: `Web ${sessionId.slice(0, 8)}`,
		});
		const threadId = await topicOf("[WEB] Where is my order?", since);
		expect(threadId).toBe((created.result as { message_thread_id: number }).message_thread_id);
		// One message is the card with the customer's message under it, pinned once the group is idle.
		const [card, ...rest] = tg.topics.get(threadId)?.messages ?? [];
		expect(card?.text).toStartWith("📋");
		expect(card?.text).toEndWith("\n\n[WEB] Where is my order?");
		await tg.waitForCall((c) => c.method === "pinChatMessage" && c.ok, { since });
		expect(tg.pinned(tg.groupId)).toContain(card?.message_id ?? -1);
		expect(rest.map((m) => m.text)).toEqual([]);
		socket.close();
	});

	test("an operator's answer in the topic reaches every open socket of that customer only", async () => {
		const alice = await customer();
		const aliceTab2 = connectSocket(service.url, `?session=${alice.sessionId}`);
		await aliceTab2.next("connected");
		const bob = await customer();
		alice.socket.send({ type: "message", text: "alice asks" });
		bob.socket.send({ type: "message", text: "bob asks" });
		const aliceTopic = await topicOf("[WEB] alice asks");
		await topicOf("[WEB] bob asks");
		const posted = tg.operatorPosts(aliceTopic, "Hello Alice, checking now.");
		for (const socket of [alice.socket, aliceTab2]) {
			const frame = await socket.next((f) => f.type === "message" && f.data.from === "support");
			expect(frame.data).toMatchObject({
				text: "Hello Alice, checking now.",
				from: "support",
				channel: "telegram",
			});
		}
		// The answer's update is applied, and Bob's own later message reaches his socket after
		// anything published to it before.
		await tg.waitForUpdateConfirmed();
		const bobsFrames = await socketMarker(bob.socket);
		expect(bobsFrames.some((f) => f.data?.from === "support")).toBe(false);
		const [copy] = await service.database.query<{ telegram_message_id: number }>(
			sql`select c.telegram_message_id from message_copies c join messages m on m.id = c.message_id
				where m.text = 'Hello Alice, checking now.'`,
		);
		expect(Number(copy?.telegram_message_id)).toBe(posted.message_id);
		for (const s of [alice.socket, aliceTab2, bob.socket]) s.close();
	});

	test("an answer while no socket is open waits in history; after= catches up without gaps", async () => {
		const { sessionId, socket } = await customer();
		socket.send({ type: "message", text: "are you there?" });
		const mine = await socket.next("message");
		const threadId = await topicOf("[WEB] are you there?");
		socket.close();
		await socket.closed;
		tg.operatorPosts(threadId, "Yes, here!");
		tg.operatorPosts(threadId, "// internal: VIP customer");
		tg.operatorPosts(threadId, "#internal check the CRM");
		tg.operatorPosts(threadId, "Anything else?");
		let texts: unknown[] = [];
		for (let i = 0; i < 50 && texts.length < 2; i++) {
			await Bun.sleep(100);
			const page = await api<Envelope<{ messages: { text: string }[] }>>(
				service.url,
				"GET",
				`/api/chat/history?after=${mine.data.id}`,
				{ session: sessionId },
			);
			texts = page.body.data.messages.map((m) => m.text);
		}
		expect(texts).toEqual(["Yes, here!", "Anything else?"]);
	});

	test("two first messages at the same moment make exactly one topic, in order", async () => {
		const since = tg.calls.length;
		const { sessionId, socket } = await customer();
		const [a, b] = await Promise.all([
			api(service.url, "POST", "/api/chat/message", {
				session: sessionId,
				body: { text: "first" },
			}),
			api(service.url, "POST", "/api/chat/message", {
				session: sessionId,
				body: { text: "second" },
			}),
		]);
		expect([a.status, b.status]).toEqual([201, 201]);
		const seqs = [a, b].map((r) => (r.body as Envelope<{ seq: number; messageId: string }>).data);
		const ordered =
			seqs[0] && seqs[1] && seqs[0].seq < seqs[1].seq ? ["first", "second"] : ["second", "first"];
		const lastThread = await topicOf(`[WEB] ${ordered[1]}`, since);
		const firstThread = await topicOf(`[WEB] ${ordered[0]}`, since);
		expect(firstThread).toBe(lastThread);
		const creates = tg
			.callsOf("createForumTopic")
			.filter(
				(c) =>
					c.at >= (tg.calls[since]?.at ?? 0) && c.params.name === `Web ${sessionId.slice(0, 8)}`,
			);
		expect(creates).toHaveLength(1);
		const [card, ...rest] = tg.topics.get(firstThread)?.messages ?? [];
		expect(card?.text).toEndWith(`\n\n[WEB] ${ordered[0]}`);
		expect(rest.map((m) => m.text)).toEqual([`[WEB] ${ordered[1]}`]);
		socket.close();
	});

	test("the same clientMessageId twice stores and sends one message", async () => {
		const { sessionId, socket } = await customer();
		const body = { text: "pay twice?", clientMessageId: "idem-1" };
		const first = await api<Envelope<{ messageId: string }>>(
			service.url,
			"POST",
			"/api/chat/message",
			{ session: sessionId, body },
		);
		const again = await api<Envelope<{ messageId: string }>>(
			service.url,
			"POST",
			"/api/chat/message",
			{ session: sessionId, body },
		);
		expect(first.status).toBe(201);
		expect(again.body.data.messageId).toBe(first.body.data.messageId);
		socket.send({ type: "message", ...body });
		expect(
			(await socket.next((f) => f.type === "message" && f.data.text === "pay twice?")).data.id,
		).toBe(first.body.data.messageId);
		await topicOf("[WEB] pay twice?");
		await waitForOutboxIdle(service);
		expect(
			tg.calls.filter((c) => c.method === "sendMessage" && showsText(c, "[WEB] pay twice?")),
		).toHaveLength(1);
		socket.close();
	});
});

describe("outbox delivery under failures", () => {
	test("5xx and dropped connections are retried until delivered, exactly once", async () => {
		const { socket } = await customer();
		socket.send({ type: "message", text: "opening the topic" });
		await topicOf("[WEB] opening the topic");
		tg.failNext("sendMessage", 1, { error_code: 500, description: "Internal Server Error" });
		tg.failNext("sendMessage", 1, { drop: true });
		socket.send({ type: "message", text: "survives faults" });
		await topicOf("[WEB] survives faults");
		const attempts = tg.calls.filter(
			(c) => c.method === "sendMessage" && showsText(c, "[WEB] survives faults"),
		);
		expect(attempts.filter((c) => c.ok)).toHaveLength(1);
		expect(attempts.length).toBeGreaterThanOrEqual(3);
		socket.close();
	}, 20_000);

	test("429 waits exactly retry_after before the next attempt", async () => {
		const { socket } = await customer();
		socket.send({ type: "message", text: "topic for the flood test" });
		await topicOf("[WEB] topic for the flood test");
		tg.failNext("sendMessage", 1, {
			error_code: 429,
			description: "Too Many Requests: retry after 2",
			retry_after: 2,
		});
		socket.send({ type: "message", text: "flood waited" });
		await topicOf("[WEB] flood waited");
		const attempts = tg.calls.filter(
			(c) => c.method === "sendMessage" && showsText(c, "[WEB] flood waited"),
		);
		expect(attempts).toHaveLength(2);
		const waited = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
		expect(waited).toBeGreaterThanOrEqual(2000);
		expect(waited).toBeLessThan(3500);
		socket.close();
	}, 20_000);

	test("a permanent error leaves the item dead with its reason, and later items still go", async () => {
		const { sessionId, socket } = await customer();
		socket.send({ type: "message", text: "opens the topic" });
		await topicOf("[WEB] opens the topic");
		tg.failNext("sendMessage", 1, {
			error_code: 400,
			description: "Bad Request: something permanent",
		});
		socket.send({ type: "message", text: "cannot be sent" });
		socket.send({ type: "message", text: "after the dead one" });
		await topicOf("[WEB] after the dead one");
		const [dead] = await service.database.query<{ state: string; last_error: string }>(
			sql`select o.state, o.last_error from outbox o join web_sessions s on s.customer_id = o.customer_id
				where s.id = ${sessionId} and o.state = 'dead'`,
		);
		expect(dead).toEqual({ state: "dead", last_error: "Bad Request: something permanent" });
		// Operators see it in the topic, and /retry there sends it after all.
		const threadId = await topicOf("[WEB] after the dead one");
		const notice = await tg.waitForCall(
			(c) =>
				Number(c.params.message_thread_id) === threadId &&
				String(c.params.text).startsWith(
					"⚠️ Could not be delivered to Telegram: Bad Request: something permanent",
				),
		);
		expect(notice.ok).toBe(true);
		const since = tg.calls.length;
		tg.operatorPosts(threadId, "/retry");
		await tg.waitForCall((c) => c.params.text === "Queued again: 1." && c.ok, { since });
		const retried = await tg.waitForCall((c) => showsText(c, "[WEB] cannot be sent") && c.ok, {
			since,
			timeoutMs: 10_000,
		});
		expect(Number(retried.params.message_thread_id)).toBe(threadId);
		socket.close();
	}, 20_000);

	test("Telegram unreachable for a while delays delivery and loses nothing", async () => {
		const { socket } = await customer();
		socket.send({ type: "message", text: "before the outage" });
		const threadId = await topicOf("[WEB] before the outage");
		// Every call fails as if the network were down, getUpdates included.
		tg.setFaultRate({ rate: 1, errors: [{ drop: true, afterMs: 20, applied: false }] });
		for (let i = 1; i <= 5; i++) socket.send({ type: "message", text: `during the outage ${i}` });
		for (let i = 1; i <= 5; i++)
			await socket.next((f) => f.type === "message" && f.data.text === `during the outage ${i}`);
		await Bun.sleep(3000);
		tg.setFaultRate(null);
		const since = tg.calls.length;
		tg.operatorPosts(threadId, "we are back");
		expect(
			(await socket.next((f) => f.type === "message" && f.data.text === "we are back", 40_000)).data
				.from,
		).toBe("support");
		for (let i = 1; i <= 5; i++)
			await tg.waitForCall((c) => showsText(c, `[WEB] during the outage ${i}`) && c.ok, {
				timeoutMs: 40_000,
			});
		const landed = tg.calls.filter(
			(c) => c.ok && String(c.params.text).startsWith("[WEB] during the outage"),
		);
		expect(landed.map((c) => c.params.text)).toEqual(
			[1, 2, 3, 4, 5].map((i) => `[WEB] during the outage ${i}`),
		);
		expect(tg.calls.slice(since).some((c) => c.method === "getUpdates" && c.ok)).toBe(true);
		socket.close();
	}, 90_000);
});

describe("updates are applied once and confirmed only after commit", () => {
	test("an update that arrives while the service is down is processed after restart, once", async () => {
		const { sessionId, socket } = await customer();
		socket.send({ type: "message", text: "before restart" });
		const threadId = await topicOf("[WEB] before restart");
		socket.close();
		await service.stop();
		tg.operatorPosts(threadId, "sent while you were down");
		service = await start();
		const rows = async () =>
			service.database.query<{ n: string }>(
				sql`select count(*) as n from messages m join web_sessions s on s.customer_id = m.customer_id
					where s.id = ${sessionId} and m.text = 'sent while you were down'`,
			);
		for (let i = 0; i < 50 && Number((await rows())[0]?.n) === 0; i++) await Bun.sleep(100);
		expect(Number((await rows())[0]?.n)).toBe(1);
		// Stop before the confirming poll can happen, then start again: the double redelivers
		// whatever was not confirmed, and nothing is doubled.
		await service.stop();
		service = await start();
		// The restarted poller got the unconfirmed update again, applied it (or not) and confirmed it.
		await tg.waitForUpdateConfirmed();
		expect(Number((await rows())[0]?.n)).toBe(1);
	}, 30_000);
});
