/**
 * Operators answering in a customer's topic: every human message reaches every
 * channel of the customer; notes stay internal; replies, edits and failures are carried over.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import {
	dmTexts,
	eventsOf,
	newUser,
	nextCall,
	showsText,
	topicIdOf,
	useTelegramFlow,
} from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

const flow = useTelegramFlow();

/** A Telegram customer who asked something, with their topic. */
async function telegramCustomer(name: string) {
	const { tg, service } = flow();
	const user = newUser(name);
	const question = tg.customerSends(user, `${name} needs help`);
	const topicId = await topicIdOf(service, user.id);
	// The question stands under the card in the new topic.
	await nextCall(
		tg,
		0,
		(c) =>
			c.method === "sendMessage" &&
			c.ok &&
			Number(c.params.message_thread_id) === topicId &&
			showsText(c, `${name} needs help`),
	);
	return { user, question, topicId };
}

/** A customer on both channels: a web session linked to a Telegram account. */
async function linkedCustomer(name: string) {
	const { tg, service } = flow();
	const { sessionId } = await initSession(service.url);
	const socket = connectSocket(service.url, `?session=${sessionId}`);
	await socket.next("connected");
	socket.send({ type: "message", text: `${name} on the web` });
	await nextCall(tg, 0, (c) => showsText(c, `[WEB] ${name} on the web`) && c.ok);
	const link = await api<Envelope<{ token: string }>>(
		service.url,
		"POST",
		"/api/chat/link-telegram",
		{ session: sessionId },
	);
	const user = newUser(name);
	const since = tg.calls.length;
	tg.customerSends(user, `/start ${link.body.data.token}`);
	// Linking asks first: the customer presses "Link" on the confirmation.
	const ask = await nextCall(
		tg,
		since,
		(c) =>
			c.method === "sendMessage" &&
			c.ok &&
			Number(c.params.chat_id) === user.id &&
			JSON.stringify(c.params.reply_markup ?? {}).includes("link:yes:"),
	);
	tg.pressButton(
		user.id,
		(ask.result as { message_id: number }).message_id,
		`link:yes:${link.body.data.token.slice("link_".length)}`,
	);
	await socket.next("channel_linked");
	const topicId = await topicIdOf(service, user.id);
	return { user, sessionId, socket, topicId };
}

describe("operator replies", () => {
	test("a reply reaches the private chat with the Resolved button and moves NEW to IN_PROGRESS", async () => {
		const { tg, service } = flow();
		const { user, topicId } = await telegramCustomer("Olga");
		const since = tg.calls.length;
		const answer = tg.operatorPosts(topicId, "We are on it");
		const copy = await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id,
		);
		expect(copy.ok).toBe(true);
		expect(copy.params).toMatchObject({ from_chat_id: tg.groupId, message_id: answer.message_id });
		expect(JSON.stringify(copy.params.reply_markup)).toContain('"callback_data":"resolve"');
		await nextCall(tg, since, (c) => c.params.text === "Status changed: 🛠 In progress");
		// The first to answer took the ticket (assignment.auto "first-reply"), then it moved on.
		expect(await eventsOf(service, user.id)).toEqual(["OPENED", "ASSIGNED", "STATUS_CHANGED"]);
		const [row] = await service.database.query<{ status: string }>(
			sql`select status from customers where telegram_user_id = ${user.id}`,
		);
		expect(row?.status).toBe("IN_PROGRESS");
	});

	test("// and #internal notes, the bot's own messages and other chats never reach the customer", async () => {
		const { tg, service } = flow();
		const { user, topicId } = await telegramCustomer("Petr");
		const since = tg.calls.length;
		tg.operatorPosts(topicId, "// VIP, be gentle");
		tg.operatorPosts(topicId, "#internal refund approved");
		tg.postInGroupGeneral("general chatter");
		tg.operatorPosts(topicId, "visible answer");
		await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id,
		);
		// Every post applied, and all the copies they caused sent.
		await tg.waitForUpdateConfirmed();
		await waitForOutboxIdle(service);
		const copies = tg.calls
			.slice(since)
			.filter((c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id);
		expect(copies).toHaveLength(1);
		expect(tg.messagesIn(user.id).map((m) => m.text)).not.toContain("// VIP, be gentle");
	});

	test("a reply to the customer's message is a reply to the original in the private chat; edits follow with the button", async () => {
		const { tg } = flow();
		const { user, question, topicId } = await telegramCustomer("Rita");
		// The customer's message in the topic: under the card, the ticket's first message.
		const copied = tg.calls.find(
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.message_thread_id) === topicId &&
				showsText(c, "Rita needs help"),
		);
		const copyInTopic = (copied?.result as { message_id: number } | undefined)?.message_id;
		const since = tg.calls.length;
		const answer = tg.operatorPosts(topicId, "Got it, checking", { replyToMessageId: copyInTopic });
		const dm = await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id && c.ok,
		);
		expect((dm.params.reply_parameters as { message_id: number }).message_id).toBe(
			question.message_id,
		);
		const dmCopyId = (dm.result as { message_id: number }).message_id;
		tg.operatorEdits(topicId, answer.message_id, "Got it, checking now");
		const edit = await nextCall(
			tg,
			since,
			(c) => c.method === "editMessageText" && Number(c.params.chat_id) === user.id,
		);
		expect(edit.params).toMatchObject({ message_id: dmCopyId, text: "Got it, checking now" });
		expect(JSON.stringify(edit.params.reply_markup)).toContain("resolve");
	});

	test("an anonymous admin posting as the group is an operator too", async () => {
		const { tg } = flow();
		const { user, topicId } = await telegramCustomer("Sam");
		const since = tg.calls.length;
		tg.operatorPosts(topicId, "Answer from the admins", { anonymous: true });
		const copy = await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.chat_id) === user.id,
		);
		expect(copy.ok).toBe(true);
	});

	test("a customer who blocked the bot: the topic is told, the web still gets the answer", async () => {
		const { tg } = flow();
		const { user, socket, topicId } = await linkedCustomer("Tom");
		tg.blockBot(user.id);
		const since = tg.calls.length;
		tg.operatorPosts(topicId, "Are you still there?");
		const web = await socket.next((f) => f.type === "message" && f.data.from === "support");
		expect(web.data.text).toBe("Are you still there?");
		await nextCall(
			tg,
			since,
			(c) =>
				c.params.text === "⚠️ Not delivered to Telegram: the customer blocked the bot." &&
				Number(c.params.message_thread_id) === topicId,
		);
		const [copy] = await flow().service.database.query<{ state: string }>(
			sql`select c.state from message_copies c join messages m on m.id = c.message_id where m.text = 'Are you still there?' and c.kind = 'dm'`,
		);
		expect(copy?.state).toBe("failed");
		socket.close();
	});

	test("an operator's photo reaches the web through the signed media proxy", async () => {
		const { tg, service } = flow();
		const { sessionId, socket, topicId } = await linkedCustomer("Uma");
		const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6]);
		const photo = tg.registerFile("photo", { bytes });
		tg.operatorPosts(topicId, { photo, caption: "like this" });
		const frame = await socket.next((f) => f.type === "message" && f.data.from === "support");
		expect(frame.data.text).toBe("like this");
		const url = String(frame.data.imageUrl).replace(/^https?:\/\/[^/]+/, service.url);
		const media = await fetch(url);
		expect(media.status).toBe(200);
		expect([...new Uint8Array(await media.arrayBuffer())]).toEqual([...bytes]);
		expect(JSON.stringify(await media.headers.toJSON())).not.toContain(tg.token);
		const history = await api<Envelope<{ messages: { imageUrl?: string }[] }>>(
			service.url,
			"GET",
			"/api/chat/history?limit=1",
			{ session: sessionId },
		);
		expect(history.body.data.messages[0]?.imageUrl).toMatch(/\/api\/media\//);
		socket.close();
	});

	test("the customer's own Telegram messages show live on the web, and web messages get [WEB] while Telegram ones get [TG]", async () => {
		const { tg } = flow();
		const { user, socket, topicId } = await linkedCustomer("Vera");
		const since = tg.calls.length;
		tg.customerSends(user, "typed in Telegram");
		const live = await socket.next(
			(f) => f.type === "message" && f.data.text === "typed in Telegram",
		);
		expect(live.data).toMatchObject({ from: "user", channel: "telegram" });
		const tgCopy = await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && c.params.text === "[TG] typed in Telegram",
		);
		expect(tgCopy.params.message_thread_id).toBe(topicId);
		socket.send({ type: "message", text: "typed on the web" });
		await nextCall(
			tg,
			since,
			(c) => showsText(c, "[WEB] typed on the web") && c.params.message_thread_id === topicId,
		);
		expect(dmTexts(tg, user.id).some((t) => t.startsWith("The conversation so far:"))).toBe(true);
		socket.close();
	});
});
