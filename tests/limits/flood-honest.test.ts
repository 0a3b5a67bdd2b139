/**
 * Honest flood budgets: typing never spends the group's message
 * budget and is dropped when it is short; a call held longer than its item's lease keeps the item
 * (no second attempt meanwhile); a breach DM that failed for one admin is retried for that admin
 * only; /retry keeps one item in flight per customer, in order; texts and captions past Telegram's
 * 4096 / 1024 are split, in order, never refused.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { waitForOutboxIdle } from "../support/settle.ts";
import {
	type ApiCall,
	DEFAULT_OPERATOR,
	startTelegramDouble,
	type TelegramDouble,
} from "../support/telegram-double.ts";
import { BotApiError } from "../support/telegram-double-errors.ts";
import { eventually, newUser, showsText, topicIdOf } from "../support/telegram-flow.ts";
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

async function start(configFile: Record<string, unknown> = {}) {
	db = await freshDatabase();
	tg = startTelegramDouble();
	service = await startTestService({ db, double: tg, configFile });
	return { db, tg, service };
}

/** Waits until nothing is left to deliver: every outbox item done or dead. */
async function outboxSettled(running: RunningService) {
	await eventually(async () => {
		const [row] = await running.database.query<{ n: number }>(
			sql`select count(*)::int as n from outbox where state = 'pending'`,
		);
		return Number(row?.n) === 0;
	}, 15_000);
}

/** Two calls were open at the same time (a call's arrival and answer times, both included). */
const overlaps = (a: ApiCall, b: ApiCall) =>
	a.at <= b.at + b.durationMs && b.at <= a.at + a.durationMs;

/** A widget customer whose first message made their topic; returns the session and the topic. */
async function webCustomerWithTopic(running: RunningService, double: TelegramDouble, text: string) {
	const { sessionId } = await initSession(running.url);
	await api(running.url, "POST", "/api/chat/message", { session: sessionId, body: { text } });
	const call = await double.waitForCall((c) => c.ok && showsText(c, `[WEB] ${text}`));
	return { sessionId, topicId: Number(call.params.message_thread_id) };
}

describe("flood budgets are honest", () => {
	test("typing does not spend the group budget, and is dropped (not queued) when the budget is short", async () => {
		// A budget of 4 group calls per minute: a customer message spends one.
		const { tg, service: setup } = await start({
			rateLimits: { init: 10_000, message: 10_000 },
			outbox: { groupPerMinute: 1_000_000, groupWindow: "60s" },
		});
		const customers: { sessionId: string; topicId: number }[] = [];
		for (let i = 0; i < 6; i++) customers.push(await webCustomerWithTopic(setup, tg, `t${i}`));
		// Cards and pins delivered too: none may be left over to spend the small budget below.
		await waitForOutboxIdle(setup);
		await setup.stop();
		service = await startTestService({
			db: db as TestDatabase,
			double: tg,
			configFile: {
				rateLimits: { init: 10_000, message: 10_000 },
				outbox: { groupPerMinute: 4, groupWindow: "60s" },
			},
		});
		const running = service;
		// Six customers type: the budget has room, so each "typing…" is shown…
		const sockets = customers.map((c) => connectSocket(running.url, `?session=${c.sessionId}`));
		for (const socket of sockets) await socket.next("connected");
		for (const socket of sockets) socket.send({ type: "typing", data: { isTyping: true } });
		// Generous: the restarted service may still be starting its Telegram door on a busy machine.
		await eventually(() => tg.callsOf("sendChatAction").filter((c) => c.ok).length === 6, 20_000);
		// …and spends nothing: two messages still go out at once within the window of 4.
		const first = customers[0] as { sessionId: string };
		for (const text of ["after typing 1", "after typing 2"])
			await api(running.url, "POST", "/api/chat/message", {
				session: first.sessionId,
				body: { text },
			});
		await tg.waitForCall((c) => c.ok && c.params.text === "[WEB] after typing 2");
		// One call left is "short": typing is dropped. The socket handles frames in order, so the
		// message echoed after the typing frame proves the typing frame was handled (and dropped).
		const actions = tg.callsOf("sendChatAction").length;
		const socket = sockets[1] as ReturnType<typeof connectSocket>;
		await api(running.url, "POST", "/api/chat/message", {
			session: customers[2]?.sessionId,
			body: { text: "spends the third call" },
		});
		await tg.waitForCall((c) => c.ok && c.params.text === "[WEB] spends the third call");
		socket.send({ type: "typing", data: { isTyping: true } });
		socket.send({ type: "message", data: { text: "after short typing" } });
		await socket.next((f) => f.type === "message" && f.data.text === "after short typing");
		await tg.waitForCall((c) => c.ok && c.params.text === "[WEB] after short typing");
		expect(tg.callsOf("sendChatAction").length).toBe(actions);
		for (const s of sockets) s.close();
	}, 30_000);

	test("a call held longer than the item's lease keeps the item: no second attempt meanwhile", async () => {
		const { tg, service } = await start({ outbox: { lease: "1s" } });
		const { sessionId } = await webCustomerWithTopic(service, tg, "first");
		// The next send is held 2.5 s (longer than the 1 s lease), then its connection drops.
		tg.failNext("sendMessage", 1, { drop: true, afterMs: 2500 });
		await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "held" },
		});
		await tg.waitForCall((c) => c.ok && c.params.text === "[WEB] held", { timeoutMs: 15_000 });
		await outboxSettled(service);
		const attempts = tg.calls.filter((c) => c.params.text === "[WEB] held");
		expect(attempts.length).toBe(2);
		expect(overlaps(attempts[0] as ApiCall, attempts[1] as ApiCall)).toBe(false);
	}, 30_000);

	test("a breach DM that failed for one admin is retried for that admin only", async () => {
		const { tg, service } = await start({ sla: { reminders: ["1s"] } });
		const second = { id: 990_001, is_bot: false, first_name: "Second" };
		tg.addCustomer(second);
		tg.addCustomer(DEFAULT_OPERATOR);
		tg.setAdministrators([
			...tg.model.admins,
			{ status: "administrator", user: second, ...ADMIN_RIGHTS },
		] as never);
		// The second admin's DM fails twice with a 500 (transient); the first admin's works.
		const send = tg.handlerOf("sendMessage");
		if (!send) throw new Error("the double has no sendMessage");
		let failures = 2;
		tg.setMethod("sendMessage", (ctx) => {
			if (Number(ctx.params.chat_id) === second.id && failures > 0) {
				failures -= 1;
				throw new BotApiError(500, "Internal Server Error");
			}
			return send(ctx);
		});
		const user = newUser("Breach");
		tg.customerSends(user, "anyone there?");
		const topicId = await topicIdOf(service, user.id);
		const isBreach = (c: ApiCall) =>
			c.ok &&
			Number(c.params.message_thread_id) === topicId &&
			String(c.params.text).startsWith("🚨");
		const dmTo = (id: number) => (c: ApiCall) =>
			c.ok && c.method === "sendMessage" && Number(c.params.chat_id) === id;
		await tg.waitForCall(dmTo(second.id), { timeoutMs: 15_000 });
		await outboxSettled(service);
		expect(failures).toBe(0);
		expect(tg.calls.filter(isBreach)).toHaveLength(1);
		expect(tg.calls.filter(dmTo(DEFAULT_OPERATOR.id))).toHaveLength(1);
		expect(tg.calls.filter(dmTo(second.id))).toHaveLength(1);
	}, 30_000);

	test("/retry of dead items keeps one item in flight per customer, in order", async () => {
		const { tg, service } = await start();
		const { sessionId, topicId } = await webCustomerWithTopic(service, tg, "hello");
		const say = (text: string) =>
			api(service.url, "POST", "/api/chat/message", { session: sessionId, body: { text } });
		tg.failNext("sendMessage", 1, { error_code: 400, description: "Bad Request: refused once" });
		const dies = (await say("dies")).body as Envelope<{ messageId: string }>;
		await tg.waitForCall((c) => String(c.params.text).includes("refused once") && c.ok);
		// A later message is in flight (held 5 s, then dropped) when the operator says /retry.
		tg.failNext("sendMessage", 1, { drop: true, afterMs: 5000 });
		const inFlight = (await say("in flight")).body as Envelope<{ messageId: string }>;
		await eventually(async () => {
			const [row] = await service.database.query<{ n: number }>(
				sql`select count(*)::int as n from outbox where state = 'pending' and attempts > 0
					and locked_until > now() and payload->>'messageId' = ${inFlight.data.messageId}`,
			);
			return Number(row?.n) === 1;
		});
		const heldSince = tg.calls.length;
		tg.operatorPosts(topicId, "/retry");
		await eventually(async () => {
			const [row] = await service.database.query<{ n: number }>(
				sql`select count(*)::int as n from outbox where state = 'dead'
					and payload->>'messageId' = ${dies.data.messageId}`,
			);
			return Number(row?.n) === 0;
		});
		// The dead item is queued again while the later one is still in flight.
		expect(tg.calls.some((c) => c.dropped === true)).toBe(false);
		await tg.waitForCall((c) => c.ok && c.params.text === "[WEB] in flight", {
			timeoutMs: 15_000,
			since: heldSince,
		});
		await outboxSettled(service);
		const sends = tg.calls.filter(
			(c) => c.params.text === "[WEB] dies" || c.params.text === "[WEB] in flight",
		);
		// dies (refused), in flight (held), then after the held call settled: dies, in flight.
		const held = sends.find((c) => c.dropped) as ApiCall;
		for (const other of sends) if (other !== held) expect(overlaps(other, held)).toBe(false);
		const delivered = sends.filter((c) => c.ok).map((c) => c.params.text);
		expect(delivered).toEqual(["[WEB] dies", "[WEB] in flight"]);
	}, 30_000);

	test("texts and captions past Telegram's limits are split, in order, never refused", async () => {
		const prefix = `[WEB ${"·".repeat(194)}] `;
		const { tg, service } = await start({ texts: { en: { webPrefix: prefix } } });
		const { sessionId } = await initSession(service.url);
		// 4000 characters behind a 200-character prefix: over 4096.
		const long = Array.from({ length: 500 }, (_, i) => `word${String(i).padStart(4, "0")} `)
			.join("")
			.slice(0, 4000);
		await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: long },
		});
		// A file whose caption (prefix, name, text) is over 1024.
		const caption = "c".repeat(1000);
		const form = new FormData();
		form.append("file", new File(["plain text file"], "notes.txt", { type: "text/plain" }));
		form.append("caption", caption);
		const upload = await fetch(`${service.url}/api/chat/upload`, {
			method: "POST",
			headers: { "x-session-id": sessionId },
			body: form,
		});
		expect(upload.status).toBe(201);
		await outboxSettled(service);
		const group = tg.calls.filter(
			(c) => Number(c.params.chat_id) === tg.groupId && c.params.message_thread_id !== undefined,
		);
		expect(group.filter((c) => !c.ok).map((c) => c.description)).toEqual([]);
		const texts = group
			.filter((c) => c.method === "sendMessage")
			.map((c) => String(c.params.text))
			.filter((t) => t.startsWith(prefix) || /^[wc\d ]/.test(t));
		expect(texts.every((t) => t.length <= 4096)).toBe(true);
		const document = group.find((c) => c.method === "sendDocument") as ApiCall;
		expect(String(document.params.caption).length).toBeLessThanOrEqual(1024);
		// In order: the long text's pieces, then the document, then the rest of its caption.
		const at = (c: ApiCall) => group.indexOf(c);
		const pieces = group.filter(
			(c) =>
				c.method === "sendMessage" && at(c) < at(document) && !String(c.params.text).includes("📎"),
		);
		expect(
			pieces
				.slice(-2)
				.map((c) => String(c.params.text))
				.join(""),
		).toBe(`${prefix}${long}`);
		const after = group.filter((c) => c.method === "sendMessage" && at(c) > at(document));
		// A multipart body carries line breaks as CRLF.
		const sentCaption = String(document.params.caption).replaceAll("\r\n", "\n");
		expect(`${sentCaption}${after.map((c) => c.params.text).join("")}`).toBe(
			`${prefix}📎 notes.txt\n${caption}`,
		);
	}, 30_000);
});

const ADMIN_RIGHTS = {
	can_be_edited: false,
	is_anonymous: false,
	can_manage_chat: true,
	can_delete_messages: true,
	can_manage_video_chats: true,
	can_restrict_members: true,
	can_promote_members: false,
	can_change_info: true,
	can_invite_users: true,
	can_post_stories: false,
	can_edit_stories: false,
	can_delete_stories: false,
	can_pin_messages: true,
	can_manage_topics: true,
};
