/**
 * Merging moves everything: when a web customer links a Telegram
 * account that already has its own ticket, the running timers move (the SLA clock from the
 * oldest unanswered message of the merged conversation, the waiting reminder and auto-close),
 * queued Telegram work keeps its order, and frames a widget had already queued on the
 * merged-away customer are applied to the survivor instead of failing.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall } from "../support/telegram-double.ts";
import { newUser, nextCall, type TelegramFlow, useTelegramFlow } from "../support/telegram-flow.ts";

function linker(current: () => TelegramFlow) {
	const customers = telegramCustomers(current);
	/** `user` opens the web customer's link and presses "Link"; returns once it was answered. */
	async function consent(user: ReturnType<typeof newUser>, sessionId: string) {
		const { tg } = current();
		const { token } = await customers.linkToken(sessionId);
		const since = tg.calls.length;
		tg.customerSends(user, `/start ${token}`);
		const ask = await nextCall(tg, since, (c: ApiCall) =>
			customers.inDm(c, user.id, (t) => t.startsWith("Connect this Telegram account")),
		);
		const pressed = tg.calls.length;
		const query = tg.pressButton(
			user.id,
			(ask.result as { message_id: number }).message_id,
			`link:yes:${token.slice("link_".length)}`,
		);
		return { pressed, query };
	}
	async function timersOf(customerId: string) {
		return current().service.database.query<{
			kind: string;
			step: number;
			since: Date | string | null;
			fire_at: Date | string;
		}>(
			sql`select kind, step, since, fire_at from timers where customer_id = ${customerId}
				order by kind`,
		);
	}
	/** A Telegram customer whose question an operator has answered (no SLA clock running). */
	async function answeredTelegramCustomer(user: ReturnType<typeof newUser>) {
		const { tg } = current();
		const customer = await customers.telegramCustomer(user, "Telegram question, answered");
		const since = tg.calls.length;
		const reply = tg.operatorPosts(customer.topicId, "Answered in Telegram");
		await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.message_id) === reply.message_id,
		);
		return customer;
	}
	/** The next SLA reminder posted in the topic after call `since`. */
	function reminderIn(topicId: number, since: number) {
		return nextCall(
			current().tg,
			since,
			(c) =>
				c.method === "sendMessage" &&
				Number(c.params.message_thread_id) === topicId &&
				String(c.params.text).startsWith("⏰"),
			8000,
		);
	}
	return { ...customers, consent, timersOf, answeredTelegramCustomer, reminderIn };
}

describe("merge moves the running timers", () => {
	const flow = useTelegramFlow({
		outbox: { groupWindow: "1s" },
		sla: { reminders: ["3s", "1h"] },
		waiting: { reminder: "1h", autoclose: "2h" },
	});
	const h = linker(flow);

	test("the SLA clock of the merged-away customer's unanswered message keeps running on the survivor", async () => {
		const { service } = flow();
		const uma = newUser("Uma", { username: "uma_s" });
		const older = await h.answeredTelegramCustomer(uma);
		// The survivor's question is answered: no clock of its own.
		expect(await h.timersOf(older.customerId)).toEqual([]);
		const web = await h.webCustomer("Web question, still waiting");
		const [webTimer] = await h.timersOf(web.customerId);
		expect(webTimer?.kind).toBe("sla");
		const [asked] = await service.database.query<{ created_at: Date | string }>(
			sql`select created_at from messages where customer_id = ${web.customerId} and author = 'user'`,
		);

		const { pressed } = await h.consent(uma, web.sessionId);
		await web.socket.next("channel_linked");
		const timers = await h.timersOf(older.customerId);
		expect(timers.map((t) => t.kind)).toEqual(["sla"]);
		expect(new Date(timers[0]?.since as string).getTime()).toBe(
			new Date(asked?.created_at as string).getTime(),
		);
		// And it fires, in the surviving topic, three seconds after the web question.
		const reminder = await h.reminderIn(older.topicId, pressed);
		expect(reminder.ok).toBe(true);
		web.socket.close();
	}, 20_000);

	test("a merged-away ticket waiting for the customer keeps its reminder and auto-close", async () => {
		const { tg, service } = flow();
		const vic = newUser("Vic", { username: "vic_w" });
		const older = await h.telegramCustomer(vic, "Old Telegram question");
		const web = await h.webCustomer("Newer web question");
		const since = tg.calls.length;
		tg.pressButton(tg.groupId, web.cardId, "status:WAITING_CLIENT");
		await nextCall(tg, since, (c) => c.method === "answerCallbackQuery");
		const waiting = (await h.timersOf(web.customerId)).filter((t) => t.kind !== "sla");
		expect(waiting.map((t) => t.kind)).toEqual(["waiting_autoclose", "waiting_reminder"]);

		await h.consent(vic, web.sessionId);
		await web.socket.next("channel_linked");
		// The web conversation was the live one: its status and its waiting timers survive.
		const [row] = await service.database.query<{ status: string }>(
			sql`select status from customers where id = ${older.customerId}`,
		);
		expect(row?.status).toBe("WAITING_CLIENT");
		const moved = (await h.timersOf(older.customerId)).filter((t) => t.kind !== "sla");
		expect(moved.map((t) => [t.kind, new Date(t.fire_at).getTime()])).toEqual(
			waiting.map((t) => [t.kind, new Date(t.fire_at).getTime()]),
		);
		web.socket.close();
	}, 20_000);
});

describe("merge wakes the timer worker", () => {
	// The shortest delay is an hour, so the timer worker looks at the timers only once a minute
	// (timer-worker.ts): a clock the merge re-arms from an older history, already due, fires at
	// once only because the merge wakes the worker.
	const flow = useTelegramFlow({
		outbox: { groupWindow: "1s" },
		sla: { reminders: ["1h", "2h"] },
		waiting: { reminder: "1h", autoclose: "2h" },
	});
	const h = linker(flow);

	test("an SLA clock re-armed from a question asked over an hour ago fires right after the merge", async () => {
		const { service } = flow();
		const xan = newUser("Xan", { username: "xan_t" });
		const older = await h.answeredTelegramCustomer(xan);
		const web = await h.webCustomer("Web question, asked long ago");
		// The web question was asked 90 minutes ago: its clock's first step is overdue.
		await service.database.query(
			sql`update messages set created_at = now() - interval '90 minutes'
				where customer_id = ${web.customerId} and author = 'user'`,
		);
		const { pressed } = await h.consent(xan, web.sessionId);
		await web.socket.next("channel_linked");
		const reminder = await h.reminderIn(older.topicId, pressed);
		expect(reminder.ok).toBe(true);
		// It was the first step; the second is an hour after the question.
		const [timer] = await h.timersOf(older.customerId);
		expect(timer?.step).toBe(1);
		web.socket.close();
	}, 20_000);
});

describe("merge moves queued work", () => {
	const flow = useTelegramFlow({
		outbox: { groupWindow: "1s" },
		rateLimits: { message: 100_000 },
	});
	const h = linker(flow);

	test("frames queued on the merged-away customer are stored for the survivor, in order, and reach the surviving topic in order", async () => {
		const { tg, service } = flow();
		const wes = newUser("Wes", { username: "wes_q" });
		const older = await h.telegramCustomer(wes, "Wes asked in Telegram");
		const web = await h.webCustomer("Wes on the web");
		const texts = Array.from({ length: 10 }, (_, i) => `burst ${i + 1}`);
		const { token } = await h.linkToken(web.sessionId);
		const s0 = tg.calls.length;
		tg.customerSends(wes, `/start ${token}`);
		const ask = await nextCall(tg, s0, (c) =>
			h.inDm(c, wes.id, (t) => t.startsWith("Connect this Telegram account")),
		);
		// Hold the web customer's row, so that the socket's frames queue up on it (they were
		// addressed to that customer) while the "Link" press waits to merge it away.
		let release = () => {};
		const gate = new Promise<void>((resolve) => {
			release = resolve;
		});
		let locked = () => {};
		const holding = new Promise<void>((resolve) => {
			locked = resolve;
		});
		const holder = service.database.db.transaction(async (tx) => {
			await tx.execute(sql`select id from customers where id = ${web.customerId} for update`);
			locked();
			await gate;
		});
		await holding;
		for (const text of texts) web.socket.send({ type: "message", text });
		// Ordering, not absence: give the frames time to reach the server and queue up.
		await Bun.sleep(150);
		const pressedAt = tg.calls.length;
		const query = tg.pressButton(
			wes.id,
			(ask.result as { message_id: number }).message_id,
			`link:yes:${token.slice("link_".length)}`,
		);
		await nextCall(
			tg,
			pressedAt,
			(c) => c.method === "getUpdates" && JSON.stringify(c.result ?? []).includes(query.id),
		);
		// Ordering again: let the poller reach the held row before it is released.
		await Bun.sleep(150);
		release();
		await holder;
		for (const text of texts)
			await web.socket.next(
				(f) => (f.type === "message" && f.data.text === text) || f.type === "error",
				8000,
			);
		expect(web.socket.frames.filter((f) => f.type === "error")).toEqual([]);
		expect(web.socket.frames.some((f) => f.type === "channel_linked")).toBe(true);

		// Stored once each, all on the survivor, in the order sent.
		const rows = await service.database.query<{ text: string; customer_id: string }>(
			sql`select text, customer_id from messages where text like 'burst %' order by seq`,
		);
		expect(rows.map((r) => r.text)).toEqual(texts);
		expect(new Set(rows.map((r) => r.customer_id))).toEqual(new Set([older.customerId]));

		// Every copy reaches the surviving topic (merged into fewer messages when the group
		// budget is short), in order.
		const last = `burst ${texts.length}`;
		await nextCall(
			tg,
			s0,
			(c) =>
				c.method === "sendMessage" &&
				Number(c.params.chat_id) === tg.groupId &&
				String(c.params.text).includes(`[WEB] ${last}`),
			15_000,
		);
		const delivered = tg.calls
			.slice(s0)
			.filter((c) => c.method === "sendMessage" && c.ok && Number(c.params.chat_id) === tg.groupId)
			.flatMap((c) => String(c.params.text).split("\n"))
			.map((line) => line.replace(/^\[WEB\] /, ""))
			.filter((line) => line.startsWith("burst "));
		expect(delivered).toEqual(texts);
		const [left] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from outbox where customer_id = ${web.customerId}`,
		);
		expect(Number(left?.n)).toBe(0);
		web.socket.close();
	}, 30_000);
});
