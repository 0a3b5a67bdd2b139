/**
 * Several support groups: routing rules pick a new customer's group (locale, site origin,
 * channel), the customer stays there whatever they do, and `/move` moves them with a new topic,
 * the card and links both ways. The Bot API double serves two forum groups.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import { eventually, newUser, showsText } from "../support/telegram-flow.ts";
import {
	placedOf,
	placeOf,
	SECOND_GROUP,
	useGroupsFlow,
	writesInto,
} from "../support/telegram-groups.ts";
import { api, type Envelope } from "../support/web-client.ts";

/** The second group's id as the routes name it: the double's main group is the default. */
const routes = [
	{ group: SECOND_GROUP, locale: "ru" },
	{ group: SECOND_GROUP, origin: "shop.example" },
	{ group: -1001234567890, channel: "telegram" },
];

describe("routing a new customer", () => {
	const flow = useGroupsFlow({ groups: { routes } }, { ALLOWED_ORIGINS: "shop.example" });

	test("a Russian-speaking Telegram customer gets a topic in the group of the locale rule", async () => {
		const { tg, service } = flow();
		const ivan = newUser("Ivan", { language_code: "ru" });
		tg.customerSends(ivan, "Здравствуйте");
		const place = await placedOf(service, ivan.id);
		expect(place.groupId).toBe(SECOND_GROUP);
		expect(tg.topicsIn(SECOND_GROUP)).toContain(Number(place.topicId));
		const question = await tg.waitForCall(
			(c) => Number(c.params.chat_id) === SECOND_GROUP && showsText(c, "Здравствуйте"),
		);
		expect(question.params.message_thread_id).toBe(Number(place.topicId));
	});

	test("a web customer from the routed site gets the group of the origin rule", async () => {
		const { tg, service } = flow();
		const shop = { origin: "https://shop.example" };
		const init = await api<Envelope<{ sessionId: string }>>(service.url, "POST", "/api/chat/init", {
			body: { pageUrl: "https://shop.example/cart" },
			headers: shop,
		});
		const session = init.body.data.sessionId;
		const sent = await api(service.url, "POST", "/api/chat/message", {
			session,
			body: { text: "Where is my order?" },
			headers: shop,
		});
		expect(sent.status).toBe(201);
		const question = await tg.waitForCall((c) => showsText(c, "[WEB] Where is my order?"));
		expect(Number(question.params.chat_id)).toBe(SECOND_GROUP);
	});

	test("an English-speaking Telegram customer matches the channel rule: the default group", async () => {
		const { tg, service } = flow();
		const ann = newUser("Ann", { language_code: "en" });
		tg.customerSends(ann, "Hello");
		const place = await placedOf(service, ann.id);
		// The default group is stored as null: customers from before several groups belong to it.
		expect(place.groupId).toBeNull();
		expect(tg.topicsIn(tg.groupId)).toContain(Number(place.topicId));
	});

	test("a customer never changes group by themselves", async () => {
		const { tg, service } = flow();
		const olga = newUser("Olga", { language_code: "ru" });
		tg.customerSends(olga, "Первый вопрос");
		const first = await placedOf(service, olga.id);
		// Now Telegram says she speaks English (the channel rule would pick the default group for a
		// new customer): she stays where she is, in the same topic.
		const since = tg.calls.length;
		tg.customerSends({ ...olga, language_code: "en" }, "Second question");
		const second = await tg.waitForCall((c) => c.method === "copyMessage", { since });
		expect(Number(second.params.chat_id)).toBe(SECOND_GROUP);
		expect(second.params.message_thread_id).toBe(Number(first.topicId));
		expect(await placeOf(service, olga.id)).toEqual(first);
	});
});

describe("/move", () => {
	const flow = useGroupsFlow({ card: { pin: "never" } });

	test("moves the customer: a new topic there with the card and a link back, a notice in the old one", async () => {
		const { tg, service, groups } = flow();
		const petr = newUser("Petr");
		tg.customerSends(petr, "Help me");
		const before = await placedOf(service, petr.id);
		await waitForOutboxIdle(service);
		const from = before.groupId ?? groups[0];
		const to = from === groups[0] ? groups[1] : groups[0];
		const oldTopic = Number(before.topicId);
		const since = tg.calls.length;
		tg.operatorPosts(oldTopic, `/move ${to}`);
		const created = await tg.waitForCall(
			(c) => c.method === "createForumTopic" && Number(c.params.chat_id) === to,
			{ since },
		);
		const newTopic = (created.result as { message_thread_id: number }).message_thread_id;
		const oldLink = `https://t.me/c/${String(from).replace(/^-100/, "")}/${oldTopic}`;
		const newLink = `https://t.me/c/${String(to).replace(/^-100/, "")}/${newTopic}`;
		// The new topic: the card first, then where the conversation was.
		await eventually(() =>
			writesInto(tg, to, since).some((c) => String(c.params.text ?? "").includes(oldLink)),
		);
		const there = writesInto(tg, to, since).filter((c) => c.params.message_thread_id === newTopic);
		expect(String(there[0]?.params.text ?? "")).toStartWith("📋");
		// The old topic: a notice with the link to the new one.
		const notice = await tg.waitForCall(
			(c) => Number(c.params.chat_id) === from && String(c.params.text ?? "").includes(newLink),
			{ since },
		);
		expect(notice.params.message_thread_id).toBe(oldTopic);
		expect(await placeOf(service, petr.id)).toEqual({
			groupId: to === groups[0] ? null : to,
			topicId: newTopic,
		});
		// The customer's next message goes to the new topic.
		const later = tg.calls.length;
		tg.customerSends(petr, "Still there?");
		const next = await tg.waitForCall((c) => c.method === "copyMessage", { since: later });
		expect(Number(next.params.chat_id)).toBe(to);
		expect(next.params.message_thread_id).toBe(newTopic);
	});

	test("an unknown group is refused in the topic, and nothing moves", async () => {
		const { tg, service } = flow();
		const vera = newUser("Vera");
		tg.customerSends(vera, "Hi");
		const before = await placedOf(service, vera.id);
		await waitForOutboxIdle(service);
		const since = tg.calls.length;
		tg.operatorPosts(Number(before.topicId), "/move -1001111111111");
		const answer = await tg.waitForCall(
			(c) => c.method === "sendMessage" && String(c.params.text ?? "").startsWith("Unknown group"),
			{ since },
		);
		expect(answer.params.message_thread_id).toBe(Number(before.topicId));
		await waitForOutboxIdle(service);
		expect(await placeOf(service, vera.id)).toEqual(before);
		expect(tg.calls.slice(since).filter((c) => c.method === "createForumTopic")).toEqual([]);
		const [moved] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from ticket_events where kind = 'MOVED'`,
		);
		expect(Number(moved?.n)).toBe(1);
	});
});
