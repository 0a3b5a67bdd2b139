/**
 * Durable timers with second-scale durations from the config file: SLA
 * reminders and breach, the waiting reminder and auto-close, closed tickets, restarts.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { startTestService } from "../support/service.ts";
import { waitForOutboxIdle, waitForTimers } from "../support/settle.ts";
import { DEFAULT_OPERATOR } from "../support/telegram-double.ts";
import {
	dmTexts,
	eventsOf,
	newUser,
	nextCall,
	showsText,
	topicIdOf,
	useTelegramFlow,
} from "../support/telegram-flow.ts";
import { connectSocket, initSession } from "../support/web-client.ts";

const timersConfig = {
	sla: { reminders: ["1s", "2s"] },
	waiting: { reminder: "1s", autoclose: "2s" },
};
const flow = useTelegramFlow(timersConfig);

const isReminder = (topicId: number) => (c: { method: string; params: Record<string, unknown> }) =>
	c.method === "sendMessage" &&
	c.params.message_thread_id === topicId &&
	String(c.params.text).startsWith("⏰");
const isBreach = (topicId: number) => (c: { method: string; params: Record<string, unknown> }) =>
	c.method === "sendMessage" &&
	c.params.message_thread_id === topicId &&
	String(c.params.text).startsWith("🚨");

describe("SLA", () => {
	test("an unanswered question gets a reminder mentioning the admins, then the breach DMs each admin the topic", async () => {
		const { tg, service } = flow();
		const user = newUser("Quentin");
		const since = tg.calls.length;
		const asked = Date.now();
		tg.customerSends(user, "nobody answers?");
		const topicId = await topicIdOf(service, user.id);
		const reminder = await nextCall(tg, since, isReminder(topicId), 4000);
		expect(String(reminder.params.text)).toContain("@olga_operator");
		expect(reminder.at - asked).toBeGreaterThanOrEqual(1000);
		const breach = await nextCall(tg, since, isBreach(topicId), 4000);
		expect(breach.at - asked).toBeGreaterThanOrEqual(2000);
		const adminDm = await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && Number(c.params.chat_id) === DEFAULT_OPERATOR.id,
		);
		expect(String(adminDm.params.text)).toContain(
			`https://t.me/c/${String(tg.groupId).slice(4)}/${topicId}`,
		);
		// The breach was the SLA timer's last step: it is gone, and what it caused is sent.
		await waitForTimers(service, (rows) => !rows.some((t) => t.telegramUserId === user.id));
		await waitForOutboxIdle(service);
		expect(tg.calls.slice(since).filter(isReminder(topicId))).toHaveLength(1);
		expect(tg.calls.slice(since).filter(isBreach(topicId))).toHaveLength(1);
	}, 15_000);

	test("an operator reply stops the clock; the customer's next message starts it again", async () => {
		const { tg, service } = flow();
		const user = newUser("Rosa");
		const since = tg.calls.length;
		tg.customerSends(user, "quick question");
		const topicId = await topicIdOf(service, user.id);
		tg.operatorPosts(topicId, "quick answer");
		await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id,
		);
		// The reply disarmed the SLA timer (one left armed would fire, re-arm, breach and only
		// then go): none is left for this customer, and nothing is left to send.
		await waitForTimers(
			service,
			(rows) => !rows.some((t) => t.telegramUserId === user.id && t.kind === "sla"),
		);
		await waitForOutboxIdle(service);
		expect(tg.calls.slice(since).filter(isReminder(topicId))).toHaveLength(0);
		const again = tg.calls.length;
		tg.customerSends(user, "follow-up");
		await nextCall(tg, again, isReminder(topicId), 4000);
	}, 15_000);

	test("a closed ticket never reminds", async () => {
		const { tg, service } = flow();
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		const since = tg.calls.length;
		socket.send({ type: "message", text: "never mind" });
		const copy = await nextCall(tg, since, (c) => showsText(c, "[WEB] never mind") && c.ok);
		socket.send({ type: "close" });
		await socket.next("status");
		// No SLA timer is left for the closed ticket, and nothing is left to send.
		const [session] = await service.database.query<{ customer_id: string }>(
			sql`select customer_id from web_sessions where id = ${sessionId}`,
		);
		await waitForTimers(
			service,
			(rows) => !rows.some((t) => t.customerId === session?.customer_id && t.kind === "sla"),
		);
		await waitForOutboxIdle(service);
		expect(
			tg.calls.slice(since).filter(isReminder(Number(copy.params.message_thread_id))),
		).toHaveLength(0);
		socket.close();
	}, 15_000);
});

describe("waiting for the customer", () => {
	test("WAITING_CLIENT reminds the customer in every channel, then closes the ticket", async () => {
		const { tg, service } = flow();
		const user = newUser("Sven");
		tg.customerSends(user, "I will check and come back");
		const topicId = await topicIdOf(service, user.id);
		const card = tg.topics.get(topicId)?.messages[0];
		const since = tg.calls.length;
		tg.pressButton(tg.groupId, card?.message_id ?? 0, "status:WAITING_CLIENT");
		await nextCall(tg, since, (c) => c.method === "answerCallbackQuery");
		await nextCall(
			tg,
			since,
			(c) =>
				Number(c.params.chat_id) === user.id &&
				String(c.params.text).startsWith("We are waiting for your reply"),
			4000,
		);
		await nextCall(
			tg,
			since,
			(c) =>
				Number(c.params.chat_id) === user.id &&
				c.params.text ===
					"Your request is closed. Just write here again if you need anything else.",
			5000,
		);
		await nextCall(
			tg,
			since,
			(c) => c.params.message_thread_id === topicId && c.params.text === "The ticket is closed.",
		);
		const events = await eventsOf(service, user.id);
		expect(events.slice(-2)).toEqual(["STATUS_CHANGED", "CLOSED"]);
		const [closed] = await service.database.query<{ actor: string }>(
			sql`select e.actor from ticket_events e join customers c on c.id = e.customer_id where c.telegram_user_id = ${user.id} and e.kind = 'CLOSED'`,
		);
		expect(closed?.actor).toBe("system:autoclose");
		expect(dmTexts(tg, user.id).filter((t) => t.startsWith("We are waiting"))).toHaveLength(1);
	}, 15_000);

	test("a customer reply while waiting cancels the auto-close", async () => {
		const { tg, service } = flow();
		const user = newUser("Tina");
		tg.customerSends(user, "hello");
		const topicId = await topicIdOf(service, user.id);
		const card = tg.topics.get(topicId)?.messages[0];
		const since = tg.calls.length;
		tg.pressButton(tg.groupId, card?.message_id ?? 0, "status:WAITING_CLIENT");
		await nextCall(tg, since, (c) => c.method === "answerCallbackQuery");
		tg.customerSends(user, "here is the info");
		// The reply is applied and no waiting timer is left (one left armed would remind, then
		// close, and only then go); nothing is left to send.
		await tg.waitForUpdateConfirmed();
		await waitForTimers(
			service,
			(rows) => !rows.some((t) => t.telegramUserId === user.id && t.kind.startsWith("waiting_")),
		);
		await waitForOutboxIdle(service);
		const [row] = await service.database.query<{ status: string }>(
			sql`select status from customers where telegram_user_id = ${user.id}`,
		);
		expect(row?.status).toBe("IN_PROGRESS");
		expect(dmTexts(tg, user.id).some((t) => t.startsWith("Your request is closed"))).toBe(false);
	}, 15_000);
});

describe("durability", () => {
	test("a timer armed before a restart fires once after it", async () => {
		const { tg, db } = flow();
		const user = newUser("Uwe");
		const since = tg.calls.length;
		tg.customerSends(user, "before the restart");
		const topicId = await topicIdOf(flow().service, user.id);
		await flow().service.stop();
		await Bun.sleep(1200);
		flow().service = await startTestService({ db, double: tg, configFile: timersConfig });
		await nextCall(tg, since, isReminder(topicId), 4000);
		// The SLA timer ran to its last step (the breach) and is gone; what it caused is sent.
		await waitForTimers(flow().service, (rows) => !rows.some((t) => t.telegramUserId === user.id));
		await waitForOutboxIdle(flow().service);
		expect(tg.calls.slice(since).filter(isReminder(topicId))).toHaveLength(1);
		expect(tg.calls.slice(since).filter(isBreach(topicId))).toHaveLength(1);
	}, 20_000);

	test("with a second instance on the same database, every timer still fires once", async () => {
		const { tg, db } = flow();
		// The second instance has no bot (no second poller): its timer worker competes for the same
		// due timers, and what it enqueues is delivered by the first instance's outbox.
		const second = await startTestService({ db, configFile: timersConfig });
		try {
			const users = [newUser("Vik"), newUser("Wes"), newUser("Xia")];
			const since = tg.calls.length;
			for (const user of users) tg.customerSends(user, "two instances");
			const topics = await Promise.all(users.map((user) => topicIdOf(flow().service, user.id)));
			for (const topicId of topics) await nextCall(tg, since, isBreach(topicId), 6000);
			// Every SLA timer is gone (the breach was the last step), and everything is sent.
			const ids = new Set(users.map((user) => user.id));
			await waitForTimers(
				flow().service,
				(rows) => !rows.some((t) => t.telegramUserId !== null && ids.has(t.telegramUserId)),
			);
			await waitForOutboxIdle(flow().service);
			for (const topicId of topics) {
				expect(tg.calls.slice(since).filter(isReminder(topicId))).toHaveLength(1);
				expect(tg.calls.slice(since).filter(isBreach(topicId))).toHaveLength(1);
			}
		} finally {
			await second.stop();
		}
	}, 20_000);
});
