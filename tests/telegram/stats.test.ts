/**
 * `/stats`: from a known set of tickets — three opened (two in Telegram, one on the web), two
 * answered, two closed by the operator, one rated — the desk's figures, in the General topic
 * and in a customer's topic, where it was asked.
 */
import { describe, expect, test } from "bun:test";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall } from "../support/telegram-double.ts";
import { newUser, nextCall, useTelegramFlow } from "../support/telegram-flow.ts";
import { api } from "../support/web-client.ts";

describe("/stats", () => {
	const flow = useTelegramFlow();
	const customers = telegramCustomers(flow);

	const statsIn = (c: ApiCall, topicId?: number) =>
		c.method === "sendMessage" &&
		c.ok &&
		String(c.params.text).startsWith("📊") &&
		(topicId === undefined
			? c.params.message_thread_id === undefined
			: Number(c.params.message_thread_id) === topicId);

	async function close(cardId: number) {
		const { tg } = flow();
		const since = tg.calls.length;
		const press = tg.pressButton(tg.groupId, cardId, "status:CLOSED");
		await nextCall(
			tg,
			since,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === press.id,
		);
	}

	/** An operator's reply in a Telegram customer's topic, once copied to the customer. */
	async function answer(topicId: number, text: string) {
		const { tg } = flow();
		const since = tg.calls.length;
		const reply = tg.operatorPosts(topicId, text);
		await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.message_id) === reply.message_id,
		);
	}

	test("the figures of a known set of tickets, in the General topic and in a topic", async () => {
		const { tg, service } = flow();
		const answered = await customers.telegramCustomer(newUser("Tom"), "Where is my parcel?");
		const closed = await customers.telegramCustomer(newUser("Tess"), "Refund please");
		const web = await customers.webCustomer("A question from the site");
		await answer(answered.topicId, "It left the warehouse today");
		await answer(answered.topicId, "Tracking number follows");
		tg.operatorPosts(web.topicId, "Here is the answer");
		await web.socket.next((f) => f.type === "message" && f.data.text === "Here is the answer");
		await close(closed.cardId);
		await close(web.cardId);
		const rated = await api(service.url, "POST", "/api/chat/rate", {
			session: web.sessionId,
			body: { rating: 4 },
		});
		expect(rated.status).toBe(200);

		let since = tg.calls.length;
		tg.postInGroupGeneral("/stats");
		const general = String((await nextCall(tg, since, (c) => statsIn(c))).params.text);
		const lines = general.split("\n");
		expect(lines[0]).toBe("📊 The desk now");
		expect(lines[1]).toBe(
			"Tickets: 🆕 New 0 · 🛠 In progress 1 · ⏳ Waiting for the customer 0 · ✅ Closed 2",
		);
		expect(lines[2]).toBe("New tickets: 3 today, 3 in 7 days");
		expect(lines[3]).toMatch(
			/^First reply \(median, 7 days, business hours\): \d+s over 2 tickets$/,
		);
		expect(lines[4]).toBe("Satisfaction (30 days): 4.0 / 5 from 1 ratings");
		expect(lines.slice(5)).toEqual(["Operators (7 days):", "• Olga Operator: 3 replies, 2 closed"]);

		// In a customer's topic the answer goes to that topic, and nothing reaches the customer.
		since = tg.calls.length;
		tg.operatorPosts(answered.topicId, "/stats");
		const inTopic = await nextCall(tg, since, (c) => statsIn(c, answered.topicId));
		expect(String(inTopic.params.text)).toBe(general);
		const toCustomer = tg.calls
			.slice(since)
			.filter((c) => Number(c.params.chat_id) === answered.user.id);
		expect(toCustomer).toEqual([]);
	}, 30_000);
});
