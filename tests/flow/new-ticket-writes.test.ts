/**
 * A new ticket at Telegram's real budget of the support group: the topic and one message that is
 * both the card and the customer's first message (two group writes), pins that never go ahead of
 * a customer's message, and the message under the card answered, edited and kept under the card.
 * The Bot API double enforces 20 writes a minute in the group (its flood limit) where it says so.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall, TelegramDouble } from "../support/telegram-double.ts";
import { CHAT_WRITE_METHODS } from "../support/telegram-double-faults.ts";
import {
	eventually,
	newUser,
	nextCall,
	showsText,
	type TelegramFlow,
	topicIdOf,
	useTelegramFlow,
} from "../support/telegram-flow.ts";
import { connectSocket, initSession } from "../support/web-client.ts";

const REAL_BUDGET = { groupPerMinute: 20 };

/** Telegram's limit for the group, enforced by the double: 20 writes a minute. */
const enforceRealLimit = (tg: TelegramDouble) =>
	tg.setFloodLimit({ chatId: tg.groupId, max: 20, windowMs: 60_000 });

/** Calls since `since` that wrote into the support group (sends, copies, edits, pins, topics). */
const groupWrites = (tg: TelegramDouble, since: number) =>
	tg.calls
		.slice(since)
		.filter((c) => CHAT_WRITE_METHODS.has(c.method) && Number(c.params.chat_id) === tg.groupId);

/** The customer's card message id and the topic copy of their first message. */
async function recorded(flow: TelegramFlow, customerId: string) {
	const [row] = await flow.service.database.query<{ card: number | null; copy: number | null }>(
		sql`select c.card_message_id as card, (select mc.telegram_message_id from message_copies mc
				join messages m on m.id = mc.message_id
				where m.customer_id = c.id and mc.kind = 'topic' order by m.seq limit 1) as copy
			from customers c where c.id = ${customerId}`,
	);
	return { card: Number(row?.card), copy: Number(row?.copy) };
}

/** The customer's card once it is recorded: its message id. */
async function cardOf(flow: TelegramFlow, customerId: string): Promise<number> {
	const { card } = await eventually(async () => {
		const found = await recorded(flow, customerId);
		return found.card > 0 && found;
	});
	return card;
}

/** A web customer with an open socket who sent `question`. */
async function webAsks(flow: TelegramFlow, question: string) {
	const { sessionId } = await initSession(flow.service.url);
	const socket = connectSocket(flow.service.url, `?session=${sessionId}`);
	await socket.next("connected");
	socket.send({ type: "message", text: question });
	const echo = await socket.next((f) => f.type === "message" && f.data.text === question);
	return { sessionId, socket, messageId: String(echo.data.id) };
}

const cardMarkup = (call: ApiCall) =>
	call.params.reply_markup as { inline_keyboard: { callback_data: string }[][] } | undefined;

describe("a new ticket at the real budget, pin never", () => {
	const flow = useTelegramFlow({ card: { pin: "never" }, outbox: REAL_BUDGET });
	const people = telegramCustomers(flow);

	test("a web ticket makes two group writes: the topic, then the card with the question", async () => {
		const { tg, service } = flow();
		enforceRealLimit(tg);
		const since = tg.calls.length;
		const web = await webAsks(flow(), "Where is my parcel?");
		const customerId = await people.customerOfSession(web.sessionId);
		await waitForOutboxIdle(service);
		const writes = groupWrites(tg, since);
		expect(writes.map((c) => c.method)).toEqual(["createForumTopic", "sendMessage"]);
		const [, message] = writes as [ApiCall, ApiCall];
		const text = String(message.params.text);
		expect(text).toStartWith("📋");
		expect(text).toEndWith("\n\n[WEB] Where is my parcel?");
		expect(cardMarkup(message)?.inline_keyboard.flat().length).toBeGreaterThan(0);
		const sentId = (message.result as { message_id: number }).message_id;
		expect(await recorded(flow(), customerId)).toEqual({ card: sentId, copy: sentId });
		expect(writes.every((c) => c.ok)).toBe(true);
		web.socket.close();
	});

	test("a Telegram ticket makes two group writes; its formatting follows the text under the card", async () => {
		const { tg, service } = flow();
		enforceRealLimit(tg);
		const since = tg.calls.length;
		const user = newUser("Tom");
		tg.customerSends(user, {
			text: "Hello there",
			entities: [{ type: "bold", offset: 6, length: 5 }],
		});
		await topicIdOf(service, user.id);
		await waitForOutboxIdle(service);
		const writes = groupWrites(tg, since);
		expect(writes.map((c) => c.method)).toEqual(["createForumTopic", "sendMessage"]);
		const message = writes[1] as ApiCall;
		const text = String(message.params.text);
		expect(text).toStartWith("📋");
		expect(text).toEndWith("\n\nHello there");
		const bold = (message.params.entities as { type: string; offset: number; length: number }[])
			.filter((e) => e.type === "bold")
			.at(-1);
		expect(bold).toEqual({ type: "bold", offset: text.length - 5, length: 5 });
		expect(tg.pinned(tg.groupId)).not.toContain(
			(message.result as { message_id: number }).message_id,
		);
	});
});

describe("eight customers at once at the real budget", () => {
	const flow = useTelegramFlow({ outbox: REAL_BUDGET });

	test("every question is in its topic before any pin is sent", async () => {
		const { tg } = flow();
		enforceRealLimit(tg);
		const since = tg.calls.length;
		const questions = Array.from({ length: 8 }, (_, i) => `Question number ${i + 1}`);
		const sessions = await Promise.all(questions.map(() => initSession(flow().service.url)));
		const sockets = await Promise.all(
			sessions.map(async ({ sessionId }) => {
				const socket = connectSocket(flow().service.url, `?session=${sessionId}`);
				await socket.next("connected");
				return socket;
			}),
		);
		sockets.forEach((socket, i) => {
			socket.send({ type: "message", text: questions[i] });
		});
		const firstPin = await nextCall(tg, since, (c) => c.method === "pinChatMessage", 30_000);
		const pinAt = tg.calls.indexOf(firstPin);
		for (const question of questions) {
			const landed = tg.calls.findIndex(
				(c, i) => i >= since && c.ok && showsText(c, `[WEB] ${question}`),
			);
			expect(landed).toBeGreaterThanOrEqual(since);
			expect(landed).toBeLessThan(pinAt);
		}
		expect(firstPin.ok).toBe(true);
		// Nothing went over Telegram's limit: no write was refused with 429.
		expect(groupWrites(tg, since).filter((c) => c.errorCode === 429)).toEqual([]);
		for (const socket of sockets) socket.close();
	}, 60_000);
});

describe("the message under the card", () => {
	const flow = useTelegramFlow();
	const people = telegramCustomers(flow);

	test("an operator's reply to it answers the first message on the web", async () => {
		const { tg } = flow();
		const web = await webAsks(flow(), "Can I pay by card?");
		const customerId = await people.customerOfSession(web.sessionId);
		const card = await cardOf(flow(), customerId);
		const [topicId] = [...tg.topics].find(([, t]) =>
			t.messages.some((m) => m.message_id === card),
		) as [number, unknown];
		tg.operatorPosts(topicId, "Yes, any card.", { replyToMessageId: card });
		const answer = await web.socket.next((f) => f.type === "message" && f.data.from === "support");
		expect(answer.data).toMatchObject({ text: "Yes, any card.", replyTo: web.messageId });
		web.socket.close();
	});

	test("an operator's reply to it answers the first message in the private chat", async () => {
		const { tg, service } = flow();
		const user = newUser("Rita");
		const sent = tg.customerSends(user, "Is it in stock?");
		const topicId = await topicIdOf(service, user.id);
		const customerId = await people.customerOfTelegram(user.id);
		const card = await cardOf(flow(), customerId);
		await waitForOutboxIdle(service);
		const since = tg.calls.length;
		tg.operatorPosts(topicId, "It is.", { replyToMessageId: card });
		const copy = await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id,
		);
		expect(copy.params.reply_parameters).toMatchObject({ message_id: sent.message_id });
	});

	test("the customer's edit of the question edits the message, card kept on top", async () => {
		const { tg, service } = flow();
		const user = newUser("Eve");
		const original = tg.customerSends(user, "My order 123 is late");
		const topicId = await topicIdOf(service, user.id);
		const customerId = await people.customerOfTelegram(user.id);
		const card = await cardOf(flow(), customerId);
		await waitForOutboxIdle(service);
		const since = tg.calls.length;
		tg.customerEdits(user, original.message_id, "My order 124 is late");
		const edit = await nextCall(tg, since, (c) => c.method === "editMessageText");
		expect(Number(edit.params.message_id)).toBe(card);
		expect(String(edit.params.text)).toStartWith("📋");
		expect(String(edit.params.text)).toEndWith("\n\nMy order 124 is late");
		expect(cardMarkup(edit)?.inline_keyboard.flat().length).toBeGreaterThan(0);
		const shown = tg.topics.get(topicId)?.messages.find((m) => m.message_id === card);
		expect(shown?.text).toEndWith("\n\nMy order 124 is late");
	});

	test("a change of status keeps the question under the card", async () => {
		const { tg, service } = flow();
		const web = await webAsks(flow(), "Do you ship abroad?");
		const customerId = await people.customerOfSession(web.sessionId);
		const card = await cardOf(flow(), customerId);
		await waitForOutboxIdle(service);
		const since = tg.calls.length;
		tg.pressButton(tg.groupId, card, "status:WAITING_CLIENT");
		const edit = await nextCall(
			tg,
			since,
			(c) => c.method === "editMessageText" && Number(c.params.message_id) === card,
		);
		expect(String(edit.params.text)).toEndWith("\n\n[WEB] Do you ship abroad?");
		const buttons = cardMarkup(edit)
			?.inline_keyboard.flat()
			.map((b) => b.callback_data);
		expect(buttons).not.toContain("status:WAITING_CLIENT");
		web.socket.close();
	});

	test("status changes that wait for the group make one card edit showing the last", async () => {
		const { tg, service } = flow();
		const web = await webAsks(flow(), "Is my refund on its way?");
		const customerId = await people.customerOfSession(web.sessionId);
		await waitForOutboxIdle(service);
		const { card } = await recorded(flow(), customerId);
		const since = tg.calls.length;
		// The group is paused by a 429 while three changes are made.
		tg.failNext("sendMessage", 1, {
			error_code: 429,
			description: "Too Many Requests: retry after 2",
			retry_after: 2,
		});
		for (const status of ["WAITING_CLIENT", "IN_PROGRESS", "CLOSED"]) {
			const pressed = tg.calls.length;
			const press = tg.pressButton(tg.groupId, card, `status:${status}`);
			await nextCall(
				tg,
				pressed,
				(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === press.id,
			);
		}
		await waitForOutboxIdle(service);
		expect(tg.calls.slice(since).some((c) => c.errorCode === 429)).toBe(true);
		const edits = tg.calls
			.slice(since)
			.filter((c) => c.method === "editMessageText" && Number(c.params.message_id) === card);
		expect(edits).toHaveLength(1);
		const text = String(edits[0]?.params.text);
		expect(text).toContain("Status: ✅ Closed");
		expect(text).toEndWith("\n\n[WEB] Is my refund on its way?");
		// Every change still has its notice for operators.
		const notices = tg.calls
			.slice(since)
			.filter((c) => c.ok && String(c.params.text ?? "").startsWith("Status changed"));
		expect(notices.length).toBe(2);
		web.socket.close();
	});

	test("a photo is copied once, the card as its caption over the customer's, buttons on it", async () => {
		const { tg, service } = flow();
		const user = newUser("Pia");
		const photo = tg.registerFile("photo", { bytes: new Uint8Array([0xff, 0xd8, 0xff, 7, 7]) });
		const since = tg.calls.length;
		tg.customerSends(user, { photo, caption: "broken on arrival" });
		await topicIdOf(service, user.id);
		await waitForOutboxIdle(service);
		const writes = groupWrites(tg, since).filter((c) => c.method !== "pinChatMessage");
		expect(writes.map((c) => c.method)).toEqual(["createForumTopic", "copyMessage"]);
		const copy = writes[1] as ApiCall;
		expect(String(copy.params.caption)).toStartWith("📋");
		expect(String(copy.params.caption)).toEndWith("\n\nbroken on arrival");
		expect(cardMarkup(copy)?.inline_keyboard.flat().length).toBeGreaterThan(0);
		const card = (copy.result as { message_id: number }).message_id;
		const pressedAt = tg.calls.length;
		tg.pressButton(tg.groupId, card, "status:IN_PROGRESS");
		const edit = await nextCall(tg, pressedAt, (c) => c.method === "editMessageCaption");
		expect(Number(edit.params.message_id)).toBe(card);
		expect(String(edit.params.caption)).toEndWith("\n\nbroken on arrival");
	});

	test("a question too long to go under the card follows it as a message of its own", async () => {
		const { tg, service } = flow();
		const question = `Long story: ${"and then ".repeat(440)}`.trim();
		const since = tg.calls.length;
		const web = await webAsks(flow(), question);
		await waitForOutboxIdle(service);
		const sends = groupWrites(tg, since).filter((c) => c.method === "sendMessage");
		expect(sends.length).toBe(2);
		expect(String(sends[0]?.params.text)).toStartWith("📋");
		expect(String(sends[0]?.params.text)).not.toContain("[WEB]");
		expect(sends[1]?.params.text).toBe(`[WEB] ${question}`);
		const customerId = await people.customerOfSession(web.sessionId);
		const { card, copy } = await recorded(flow(), customerId);
		const [cardSend, copySend] = sends as [ApiCall, ApiCall];
		expect(card).toBe((cardSend.result as { message_id: number }).message_id);
		expect(copy).toBe((copySend.result as { message_id: number }).message_id);
		web.socket.close();
	});

	test("when-idle: the card is pinned once the group has nothing else to send", async () => {
		const { tg, service } = flow();
		const since = tg.calls.length;
		const web = await webAsks(flow(), "Pin me later");
		const customerId = await people.customerOfSession(web.sessionId);
		await waitForOutboxIdle(service);
		const { card } = await recorded(flow(), customerId);
		const pins = tg.calls.slice(since).filter((c) => c.method === "pinChatMessage");
		expect(pins.map((c) => Number(c.params.message_id))).toEqual([card]);
		expect(tg.pinned(tg.groupId)).toContain(card);
		web.socket.close();
	});
});

describe("card.pin always", () => {
	const flow = useTelegramFlow({ card: { pin: "always" } });
	const people = telegramCustomers(flow);

	test("the card is pinned right after it is posted", async () => {
		const { tg, service } = flow();
		const since = tg.calls.length;
		const web = await webAsks(flow(), "Pin me now");
		const customerId = await people.customerOfSession(web.sessionId);
		await nextCall(tg, since, (c) => c.method === "pinChatMessage");
		await waitForOutboxIdle(service);
		const { card } = await recorded(flow(), customerId);
		expect(groupWrites(tg, since).map((c) => c.method)).toEqual([
			"createForumTopic",
			"sendMessage",
			"pinChatMessage",
		]);
		expect(tg.pinned(tg.groupId)).toContain(card);
		web.socket.close();
	});
});
