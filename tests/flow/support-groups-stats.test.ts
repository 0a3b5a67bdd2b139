/**
 * `/stats` on a desk with two support groups: asked in a group, it counts that group's customers
 * only (their tickets, openings, first replies, ratings, and the operators' replies and closes
 * to them), and a customer moved with `/move` counts, history and all, in the group they are in
 * now. The one-group desk keeps the whole desk's figures (tests/telegram/stats.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import { DEFAULT_GROUP_ID, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser, nextCall } from "../support/telegram-flow.ts";
import { placedOf, placeOf, SECOND_GROUP, useGroupsFlow } from "../support/telegram-groups.ts";

/** Russian speakers go to the second group, every other Telegram customer to the default one. */
const routes = [
	{ group: SECOND_GROUP, locale: "ru" },
	{ group: DEFAULT_GROUP_ID, channel: "telegram" },
];

/** The second group's operator (the double's operator, Olga, works in both). */
const boris = newUser("Boris", { last_name: "Operator" });

describe("/stats with several support groups", () => {
	const flow = useGroupsFlow({ groups: { routes }, card: { pin: "never" } });

	/** A customer's first message, once their topic and card are made; returns their topic. */
	async function customer(user: ReturnType<typeof newUser>, text: string) {
		const { tg, service } = flow();
		tg.customerSends(user, text);
		const place = await placedOf(service, user.id);
		await waitForOutboxIdle(service);
		return Number(place.topicId);
	}

	/** An operator's reply in a customer's topic, once copied to the customer. */
	async function answer(topicId: number, text: string, from?: typeof boris) {
		const { tg } = flow();
		const since = tg.calls.length;
		const reply = tg.operatorPosts(topicId, text, from ? { from } : {});
		await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.message_id) === reply.message_id,
		);
	}

	/** Presses a button and waits for the service's answer to it. */
	async function press(chatId: number, messageId: number, data: string, from?: typeof boris) {
		const { tg } = flow();
		const since = tg.calls.length;
		const query = tg.pressButton(chatId, messageId, data, from);
		await nextCall(
			tg,
			since,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === query.id,
		);
	}

	async function cardOf(telegramUserId: number) {
		const [row] = await flow().service.database.query<{ card_message_id: number | null }>(
			sql`select card_message_id from customers where telegram_user_id = ${telegramUserId}`,
		);
		return Number(row?.card_message_id);
	}

	/** `/stats` posted in a group's General topic (or a topic of it): the lines answered there. */
	async function statsIn(tg: TelegramDouble, chatId: number, topicId?: number) {
		const since = tg.calls.length;
		if (topicId === undefined) tg.postInGroupGeneral("/stats", { chatId });
		else tg.operatorPosts(topicId, "/stats");
		const call = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.chat_id) === chatId &&
				c.params.message_thread_id === topicId &&
				String(c.params.text).startsWith("📊"),
		);
		return String(call.params.text).split("\n");
	}

	test("each group's /stats counts its own customers and the replies and closes to them", async () => {
		const { tg, service } = flow();
		// The default group: Ann answered by Olga, Bob not answered yet.
		const ann = newUser("Ann", { language_code: "en" });
		const annTopic = await customer(ann, "Where is my parcel?");
		await customer(newUser("Bob", { language_code: "en" }), "Hello?");
		await answer(annTopic, "It left today");
		// Petr starts in the default group, is answered there by Olga, then moved to the second.
		const petr = newUser("Petr", { language_code: "en" });
		const petrTopic = await customer(petr, "Help me");
		await answer(petrTopic, "Looking into it");
		tg.operatorPosts(petrTopic, `/move ${SECOND_GROUP}`);
		await eventually(async () => (await placeOf(service, petr.id)).groupId === SECOND_GROUP);
		await waitForOutboxIdle(service);
		// The second group: Ivan answered twice and closed by Boris, then rates the support 5.
		const ivan = newUser("Ivan", { language_code: "ru" });
		const ivanTopic = await customer(ivan, "Здравствуйте");
		expect((await placeOf(service, ivan.id)).groupId).toBe(SECOND_GROUP);
		await answer(ivanTopic, "Добрый день", boris);
		await answer(ivanTopic, "Готово", boris);
		await press(SECOND_GROUP, await cardOf(ivan.id), "status:CLOSED", boris);
		const ratingOffer = await tg.waitForCall(
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.chat_id) === ivan.id &&
				JSON.stringify(c.params.reply_markup ?? {}).includes("rate:5"),
		);
		await press(ivan.id, (ratingOffer.result as { message_id: number }).message_id, "rate:5");
		await waitForOutboxIdle(service);

		const second = await statsIn(tg, SECOND_GROUP);
		expect(second[0]).toBe("📊 This support group now");
		expect(second[1]).toBe(
			"Tickets: 🆕 New 0 · 🛠 In progress 1 · ⏳ Waiting for the customer 0 · ✅ Closed 1",
		);
		expect(second[2]).toBe("New tickets: 2 today, 2 in 7 days");
		expect(second[3]).toMatch(
			/^First reply \(median, 7 days, business hours\): \d+s over 2 tickets$/,
		);
		expect(second[4]).toBe("Satisfaction (30 days): 5.0 / 5 from 1 ratings");
		expect(second.slice(5)).toEqual([
			"Operators (7 days):",
			"• Boris Operator: 2 replies, 1 closed",
			"• Olga Operator: 1 replies, 0 closed",
		]);

		const first = await statsIn(tg, tg.groupId);
		expect(first).toEqual([
			"📊 This support group now",
			"Tickets: 🆕 New 1 · 🛠 In progress 1 · ⏳ Waiting for the customer 0 · ✅ Closed 0",
			"New tickets: 2 today, 2 in 7 days",
			expect.stringMatching(
				/^First reply \(median, 7 days, business hours\): \d+s over 1 tickets$/,
			),
			"Satisfaction (30 days): no ratings yet",
			"Operators (7 days):",
			"• Olga Operator: 1 replies, 0 closed",
		]);

		// In a customer's topic of the second group: that group's figures again, in that topic.
		expect(await statsIn(tg, SECOND_GROUP, ivanTopic)).toEqual(second);
	}, 60_000);
});
