/**
 * Web → Telegram linking, end to end: a widget session asks for a one-time link, the
 * customer opens it in Telegram (`/start <token>`), and from then on both channels lead to one
 * topic. Covers the notices, rename, card, welcome and digest, the used / expired / unknown
 * tokens, and the merge of two customers when the Telegram account already had its own ticket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall } from "../support/telegram-double.ts";
import {
	dmTexts,
	eventually,
	newUser,
	nextCall,
	startTelegramFlow,
	type TelegramFlow,
} from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, type Frame } from "../support/web-client.ts";

/** Roomy flood budgets: these tests are about linking, not about pacing into the group. */
const BUDGETS = { outbox: { groupWindow: "1s" } };

const WELCOME =
	"Your web chat is now connected to Telegram. Continue here or on the website: operators' answers arrive in both places.";
const DIGEST_TITLE = "The conversation so far:";
const USED = "This link was already used. Open the chat on the website to get a new one.";
const EXPIRED =
	"This link has expired. Open the chat on the website and press “Continue in Telegram” again.";
const INVALID =
	"This link is not valid. Open the chat on the website and press “Continue in Telegram” again.";
const CONFIRM_TITLE = "Connect this Telegram account to a web chat?";
const RESOLVED_BUTTON = { inline_keyboard: [[{ text: "✅ Resolved", callback_data: "resolve" }]] };

const linked = (who: string) =>
	`The customer connected Telegram (${who}): both channels now lead here.`;

let flow: TelegramFlow;

// ---------------------------------------------------------------- helpers

const {
	inTopic,
	inDm,
	customerOfSession,
	customerOfTelegram,
	eventRows,
	webCustomer,
	telegramCustomer,
	linkToken,
} = telegramCustomers(() => flow);

const isDigest = (text: string) => text.startsWith(DIGEST_TITLE);

/** `haystack` contains every needle, in this order. */
function expectInOrder(haystack: string, needles: string[]) {
	let from = 0;
	for (const needle of needles) {
		const at = haystack.indexOf(needle, from);
		expect(at, `"${needle}" after position ${from} in:\n${haystack}`).toBeGreaterThanOrEqual(0);
		from = at + needle.length;
	}
}

async function customerRow(customerId: string) {
	const [row] = await flow.service.database.query<{
		id: string;
		topic_id: number | null;
		card_message_id: number | null;
		telegram_user_id: number | null;
		telegram_username: string | null;
		display_name: string;
	}>(
		sql`select id, topic_id, card_message_id, telegram_user_id, telegram_username, display_name
			from customers where id = ${customerId}`,
	);
	return row
		? {
				...row,
				topic_id: row.topic_id == null ? null : Number(row.topic_id),
				card_message_id: row.card_message_id == null ? null : Number(row.card_message_id),
				telegram_user_id: row.telegram_user_id == null ? null : Number(row.telegram_user_id),
			}
		: undefined;
}

async function ticket(sessionId: string) {
	const response = await api<
		Envelope<{
			ticketId: string;
			status: string;
			telegramLinked: boolean;
			telegramUsername: string | null;
		}>
	>(flow.service.url, "GET", "/api/chat/status", { session: sessionId });
	expect(response.status).toBe(200);
	return response.body.data;
}

/** The whole web history of a session, oldest first. */
async function historyTexts(sessionId: string) {
	const response = await api<Envelope<{ messages: { text: string; from: string }[] }>>(
		flow.service.url,
		"GET",
		"/api/chat/history?limit=100",
		{ session: sessionId },
	);
	expect(response.status).toBe(200);
	return response.body.data.messages
		.filter((m) => m.from !== "system")
		.map((m) => m.text)
		.reverse();
}

/** The `https://t.me/c/...` link of a topic, written out independently of the service. */
const topicUrl = (topicId: number) =>
	`https://t.me/c/${String(flow.tg.groupId).replace(/^-100/, "")}/${topicId}`;

const isSupportMessage = (text: string) => (f: Frame) =>
	f.type === "message" && f.data.from === "support" && f.data.text === text;

/** The notice left in the topic of a customer merged into the one of `survivorTopicId`. */
const continuesIn = (survivorTopicId: number) =>
	`This customer continues in another topic: ${topicUrl(survivorTopicId)}`;

/** The copy of an operator's topic message in a customer's private chat. */
const copiedTo = (userId: number, messageId: number) => (c: ApiCall) =>
	c.method === "copyMessage" &&
	c.ok &&
	Number(c.params.chat_id) === userId &&
	Number(c.params.message_id) === messageId;

/** The bot's link confirmation in `userId`'s chat: a DM with "Link" and "Cancel" buttons. */
const isConfirmation = (userId: number) => (c: ApiCall) =>
	inDm(c, userId, (t) => t.startsWith(CONFIRM_TITLE)) &&
	JSON.stringify(c.params.reply_markup).includes('"Link"');

/**
 * `user` opens the link (`/start <token>`), gets the confirmation and presses "Link".
 * Returns where the calls the press caused begin.
 */
async function consent(user: ReturnType<typeof newUser>, token: string) {
	const { tg } = flow;
	const since = tg.calls.length;
	tg.customerSends(user, `/start ${token}`);
	const ask = await nextCall(tg, since, isConfirmation(user.id));
	const pressed = tg.calls.length;
	tg.pressButton(user.id, (ask.result as { message_id: number }).message_id, linkData(token));
	await nextCall(tg, pressed, (c) => c.method === "answerCallbackQuery");
	return since;
}

const linkData = (token: string, answer: "yes" | "no" = "yes") =>
	`link:${answer}:${token.slice("link_".length)}`;

/**
 * `user` opens a link to the web customer's chat (a fresh one unless given) and it links: waits
 * for channel_linked, the topic notice, the rename, the card and the digest. Returns where the
 * calls it caused begin.
 */
async function linkTelegram(
	web: Awaited<ReturnType<typeof webCustomer>>,
	user: ReturnType<typeof newUser>,
	token?: string,
) {
	const { tg } = flow;
	const since = await consent(user, token ?? (await linkToken(web.sessionId)).token);
	await web.socket.next("channel_linked");
	await nextCall(tg, since, (c) => inTopic(c, web.topicId, linked(`@${user.username}`)));
	await nextCall(tg, since, (c) => c.method === "editForumTopic" && c.ok);
	await nextCall(
		tg,
		since,
		(c) => c.method === "editMessageText" && c.ok && Number(c.params.chat_id) === tg.groupId,
	);
	await nextCall(tg, since, (c) => inDm(c, user.id, isDigest));
	return since;
}

// ---------------------------------------------------------------- the linking flow

describe("web → Telegram linking", () => {
	beforeAll(async () => {
		flow = await startTelegramFlow(BUDGETS);
	}, 20_000);
	afterAll(async () => {
		await flow?.stop();
	}, 20_000);

	test("/start <token> links the account: channel_linked, notice, rename, card, welcome and digest; then both channels work in parallel", async () => {
		const { tg, service } = flow;
		const web = await webCustomer("Hi, my order #12 is late");
		const s0 = tg.calls.length;
		web.socket.send({ type: "message", text: "It was due on Monday" });
		await nextCall(tg, s0, (c) => inTopic(c, web.topicId, "[WEB] It was due on Monday"));
		tg.operatorPosts(web.topicId, "Let me check the order");
		await web.socket.next(isSupportMessage("Let me check the order"));
		const before = await customerRow(web.customerId);
		expect(before?.display_name).toBe(`Web ${web.sessionId.slice(0, 8)}`);
		const cardId = before?.card_message_id as number;

		const link = await linkToken(web.sessionId);
		expect(link.token).toMatch(/^link_[0-9a-f]{32}$/);
		expect(link.telegramUrl).toBe(`https://t.me/${tg.botUser.username}?start=${link.token}`);
		const ttl = Date.parse(link.expiresAt) - Date.now();
		expect(ttl).toBeGreaterThan(59 * 60_000);
		expect(ttl).toBeLessThanOrEqual(60 * 60_000);

		const lena = newUser("Lena", { last_name: "Park", username: "lenapark" });
		const since = await consent(lena, link.token);

		const frame = await web.socket.next("channel_linked");
		expect(frame.data).toEqual({ telegram: "lenapark" });
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, linked("@lenapark")));
		const rename = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "editForumTopic" &&
				Number(c.params.chat_id) === tg.groupId &&
				Number(c.params.message_thread_id) === web.topicId,
		);
		expect(rename.ok).toBe(true);
		expect(rename.params.name).toBe("Lena Park (@lenapark)");
		expect(tg.topics.get(web.topicId)?.name).toBe("Lena Park (@lenapark)");
		const card = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "editMessageText" &&
				c.ok &&
				Number(c.params.chat_id) === tg.groupId &&
				Number(c.params.message_id) === cardId &&
				String(c.params.text).includes("@lenapark"),
		);
		const cardText = String(card.params.text);
		expect(cardText).toContain("Name: Lena Park (@lenapark)");
		expect(cardText).toContain("Username: @lenapark");
		expect(cardText).toContain("Channels: web, Telegram");
		expect(tg.message(tg.groupId, cardId)?.text).toBe(cardText);

		const welcome = await nextCall(tg, since, (c) => inDm(c, lena.id, WELCOME));
		const digest = await nextCall(tg, since, (c) => inDm(c, lena.id, isDigest));
		expect(tg.calls.indexOf(welcome)).toBeLessThan(tg.calls.indexOf(digest));
		expectInOrder(String(digest.params.text), [
			DIGEST_TITLE,
			"Hi, my order #12 is late",
			"It was due on Monday",
			"Let me check the order",
		]);
		// Linking neither greets as for a bare /start nor opens a second ticket.
		const texts = dmTexts(tg, lena.id);
		expect(texts[0]).toStartWith(CONFIRM_TITLE);
		expect(texts.slice(1)).toEqual([WELCOME, String(digest.params.text)]);
		expect(tg.calls.slice(since).some((c) => c.method === "createForumTopic")).toBe(false);

		const after = await customerRow(web.customerId);
		expect(after).toMatchObject({
			topic_id: web.topicId,
			telegram_user_id: lena.id,
			telegram_username: "lenapark",
			display_name: "Lena Park (@lenapark)",
		});
		expect(await customerOfTelegram(lena.id)).toBe(web.customerId);
		const events = await eventRows(web.customerId);
		expect(events.map((e) => e.kind)).toContain("LINKED");
		expect(events.find((e) => e.kind === "LINKED")?.details).toMatchObject({
			telegramUserId: lena.id,
		});
		const [token] = await service.database.query<{ used_at: Date | null }>(
			sql`select used_at from link_tokens where customer_id = ${web.customerId}`,
		);
		expect(token?.used_at).not.toBeNull();
		expect(await ticket(web.sessionId)).toMatchObject({
			ticketId: web.customerId,
			telegramLinked: true,
			telegramUsername: "lenapark",
		});

		// Both channels in parallel.
		const s1 = tg.calls.length;
		tg.customerSends(lena, "Sending from Telegram now");
		const live = await web.socket.next(
			(f) => f.type === "message" && f.data.text === "Sending from Telegram now",
		);
		expect(live.data).toMatchObject({ from: "user", channel: "telegram" });
		await nextCall(tg, s1, (c) => inTopic(c, web.topicId, "[TG] Sending from Telegram now"));
		web.socket.send({ type: "message", text: "And from the web again" });
		await nextCall(tg, s1, (c) => inTopic(c, web.topicId, "[WEB] And from the web again"));

		const answer = tg.operatorPosts(web.topicId, "Found it, it ships today");
		const dm = await nextCall(
			tg,
			s1,
			(c) =>
				c.method === "copyMessage" &&
				Number(c.params.chat_id) === lena.id &&
				Number(c.params.message_id) === answer.message_id,
		);
		expect(dm.ok).toBe(true);
		expect(Number(dm.params.from_chat_id)).toBe(tg.groupId);
		expect(dm.params.reply_markup).toEqual(RESOLVED_BUTTON);
		expect(tg.message(lena.id, (dm.result as { message_id: number }).message_id)?.text).toBe(
			"Found it, it ships today",
		);
		const onWeb = await web.socket.next(isSupportMessage("Found it, it ships today"));
		expect(onWeb.data.channel).toBe("telegram");
		expect(tg.calls.slice(since).some((c) => c.method === "createForumTopic")).toBe(false);
		web.socket.close();
	}, 20_000);

	test("a link works once: using it again, from the same or another account, is refused and changes nothing", async () => {
		const { tg } = flow;
		const web = await webCustomer("One link, two clicks");
		const link = await linkToken(web.sessionId);
		const max = newUser("Max", { username: "max_k" });
		await linkTelegram(web, max, link.token);
		const before = {
			customer: await customerRow(web.customerId),
			events: await eventRows(web.customerId),
			topic: tg.topics.get(web.topicId)?.name,
		};

		const since = tg.calls.length;
		tg.customerSends(max, `/start ${link.token}`);
		await nextCall(tg, since, (c) => inDm(c, max.id, USED));
		const eve = newUser("Eve", { username: "eve_x" });
		tg.customerSends(eve, `/start ${link.token}`);
		await nextCall(tg, since, (c) => inDm(c, eve.id, USED));
		// A later message of the linked customer proves both /start updates were handled.
		tg.customerSends(max, "still linked to the web?");
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, "[TG] still linked to the web?"));

		expect(await customerRow(web.customerId)).toEqual(before.customer);
		expect((await eventRows(web.customerId)).map((e) => e.kind)).toEqual(
			before.events.map((e) => e.kind),
		);
		expect(tg.topics.get(web.topicId)?.name).toBe(before.topic);
		const effects = tg.calls
			.slice(since)
			.filter(
				(c) =>
					["editForumTopic", "createForumTopic", "editMessageText"].includes(c.method) ||
					inDm(c, max.id, WELCOME) ||
					inDm(c, eve.id, WELCOME) ||
					inDm(c, max.id, isDigest) ||
					inDm(c, eve.id, isDigest) ||
					inTopic(c, web.topicId, linked("@eve_x")),
			);
		expect(effects).toEqual([]);
		expect(web.socket.frames.filter((f) => f.type === "channel_linked")).toHaveLength(1);
		const [eveRow] = await flow.service.database.query<{ topic_id: number | null; n: string }>(
			sql`select c.topic_id, (select count(*) from web_sessions s where s.customer_id = c.id) as n
				from customers c where c.telegram_user_id = ${eve.id}`,
		);
		expect(eveRow?.topic_id ?? null).toBeNull();
		expect(Number(eveRow?.n ?? 0)).toBe(0);
		web.socket.close();
	}, 20_000);

	test("a new link opened by the account already connected to that chat says so and changes nothing", async () => {
		const { tg } = flow;
		const web = await webCustomer("Linking the same account twice");
		const noa = newUser("Noa", { username: "noa_n" });
		await linkTelegram(web, noa);
		const before = {
			customer: await customerRow(web.customerId),
			events: (await eventRows(web.customerId)).map((e) => e.kind),
		};
		const since = tg.calls.length;
		tg.customerSends(noa, `/start ${(await linkToken(web.sessionId)).token}`);
		// Already connected: said at once, no confirmation to press.
		await nextCall(tg, since, (c) =>
			inDm(c, noa.id, "This Telegram account is already connected to your web chat."),
		);
		tg.customerSends(noa, "still one conversation");
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, "[TG] still one conversation"));
		expect(await customerRow(web.customerId)).toEqual(before.customer);
		expect((await eventRows(web.customerId)).map((e) => e.kind)).toEqual(before.events);
		expect(
			tg.calls
				.slice(since)
				.filter(
					(c) =>
						c.method === "editForumTopic" ||
						c.method === "createForumTopic" ||
						inDm(c, noa.id, WELCOME) ||
						inDm(c, noa.id, isDigest) ||
						inTopic(c, web.topicId, linked("@noa_n")),
				),
		).toEqual([]);
		expect(web.socket.frames.filter((f) => f.type === "channel_linked")).toHaveLength(1);
		web.socket.close();
	}, 20_000);

	test("an unknown or malformed token gets 'not valid' and links nothing", async () => {
		const { tg } = flow;
		const zoe = newUser("Zoe", { username: "zoe_q" });
		const since = tg.calls.length;
		tg.customerSends(zoe, `/start link_${"0123456789abcdef".repeat(2)}`);
		await nextCall(tg, since, (c) => inDm(c, zoe.id, INVALID));
		const s2 = tg.calls.length;
		tg.customerSends(zoe, "/start link_not-a-real-token");
		await nextCall(tg, s2, (c) => inDm(c, zoe.id, INVALID));
		expect(dmTexts(tg, zoe.id)).toEqual([INVALID, INVALID]);
		const [linkedAnywhere] = await flow.service.database.query<{ n: string }>(
			sql`select count(*) as n from ticket_events e join customers c on c.id = e.customer_id
				where c.telegram_user_id = ${zoe.id} and e.kind = 'LINKED'`,
		);
		expect(Number(linkedAnywhere?.n)).toBe(0);
		const [row] = await flow.service.database.query<{ topic_id: number | null; n: string }>(
			sql`select c.topic_id, (select count(*) from web_sessions s where s.customer_id = c.id) as n
				from customers c where c.telegram_user_id = ${zoe.id}`,
		);
		expect(row?.topic_id ?? null).toBeNull();
		expect(Number(row?.n ?? 0)).toBe(0);
		expect(tg.calls.slice(since).some((c) => c.method === "createForumTopic")).toBe(false);
		// An unknown token makes no customer row at all.
		const [rows] = await flow.service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers where telegram_user_id = ${zoe.id}`,
		);
		expect(Number(rows?.n)).toBe(0);
	}, 20_000);

	test("merge: the Telegram customer with the older topic survives and takes over the web customer's history and session", async () => {
		const { tg, service } = flow;
		const mia = newUser("Mia", { last_name: "Stone", username: "miastone" });
		const older = await telegramCustomer(mia, "Telegram question first");
		const web = await webCustomer("Web question later");
		expect(web.topicId).toBeGreaterThan(older.topicId);
		web.socket.close();
		const link = await linkToken(web.sessionId);

		const since = await consent(mia, link.token);
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, continuesIn(older.topicId)));
		await nextCall(tg, since, (c) => inTopic(c, older.topicId, linked("@miastone")));
		const welcome = await nextCall(tg, since, (c) => inDm(c, mia.id, WELCOME));
		const digest = await nextCall(tg, since, (c) => inDm(c, mia.id, isDigest));
		expect(tg.calls.indexOf(welcome)).toBeLessThan(tg.calls.indexOf(digest));
		expectInOrder(String(digest.params.text), ["Telegram question first", "Web question later"]);

		const survivorCard = (await customerRow(older.customerId))?.card_message_id as number;
		await eventually(() =>
			String(tg.message(tg.groupId, survivorCard)?.text).includes("Channels: web, Telegram"),
		);

		// One customer left: the one with the older topic, holding everything.
		expect(await customerRow(web.customerId)).toBeUndefined();
		expect(await customerOfSession(web.sessionId)).toBe(older.customerId);
		expect(await customerOfTelegram(mia.id)).toBe(older.customerId);
		expect((await customerRow(older.customerId))?.topic_id).toBe(older.topicId);
		expect(await ticket(web.sessionId)).toMatchObject({
			ticketId: older.customerId,
			telegramLinked: true,
			telegramUsername: "miastone",
		});
		expect(await historyTexts(web.sessionId)).toEqual([
			"Telegram question first",
			"Web question later",
		]);
		const events = await eventRows(older.customerId);
		expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(["OPENED", "LINKED"]));
		expect(events.find((e) => e.kind === "LINKED")?.details).toMatchObject({ merged: true });

		// From now on everything goes to the surviving topic only.
		const s1 = tg.calls.length;
		const posted = await api(service.url, "POST", "/api/chat/message", {
			session: web.sessionId,
			body: { text: "Web after the merge" },
		});
		expect(posted.status).toBe(201);
		await nextCall(tg, s1, (c) => inTopic(c, older.topicId, "[WEB] Web after the merge"));
		tg.customerSends(mia, "Telegram after the merge");
		await nextCall(tg, s1, (c) => inTopic(c, older.topicId, "[TG] Telegram after the merge"));
		const socket = connectSocket(service.url, `?session=${web.sessionId}`);
		await socket.next("connected");
		const answer = tg.operatorPosts(older.topicId, "Both of your requests are handled here");
		await nextCall(tg, s1, copiedTo(mia.id, answer.message_id));
		await socket.next(isSupportMessage("Both of your requests are handled here"));
		expect(tg.calls.slice(s1).some((c) => inTopic(c, web.topicId))).toBe(false);
		expect(await historyTexts(web.sessionId)).toEqual([
			"Telegram question first",
			"Web question later",
			"Web after the merge",
			"Telegram after the merge",
			"Both of your requests are handled here",
		]);
		socket.close();
	}, 20_000);

	test("merge: the browser that asked for the link keeps a live socket — channel_linked, its messages and the answers", async () => {
		const { tg } = flow;
		const ivo = newUser("Ivo", { username: "ivo_r" });
		const older = await telegramCustomer(ivo, "Ivo asked in Telegram first");
		const web = await webCustomer("Ivo asks on the web");
		const link = await linkToken(web.sessionId);
		const since = await consent(ivo, link.token);
		await nextCall(tg, since, (c) => inDm(c, ivo.id, isDigest));
		// channel_linked goes to the customer's web sockets, this one included.
		expect((await web.socket.next("channel_linked")).data).toEqual({
			telegram: "ivo_r",
		});
		web.socket.send({ type: "message", text: "typed in the same tab after linking" });
		const echo = await web.socket.next(
			(f) =>
				(f.type === "message" && f.data.text === "typed in the same tab after linking") ||
				f.type === "error",
		);
		expect(echo.type).toBe("message");
		await nextCall(tg, since, (c) =>
			inTopic(c, older.topicId, "[WEB] typed in the same tab after linking"),
		);
		tg.operatorPosts(older.topicId, "Answer for the open tab");
		await web.socket.next(isSupportMessage("Answer for the open tab"));
		web.socket.close();
	}, 20_000);

	test("merge: the web customer with the older topic survives; both web sessions lead to the one conversation", async () => {
		const { tg, service } = flow;
		const first = await webCustomer("Older web question");
		const second = await webCustomer("Second browser question");
		expect(first.topicId).toBeLessThan(second.topicId);
		// The second browser links Kai's Telegram account: a plain link.
		const kai = newUser("Kai", { username: "kai_w" });
		const s0 = await linkTelegram(second, kai);
		tg.customerSends(kai, "Kai from Telegram");
		await nextCall(tg, s0, (c) => inTopic(c, second.topicId, "[TG] Kai from Telegram"));
		second.socket.close();

		// Now the first browser links the same account: the two customers become one.
		const link = await linkToken(first.sessionId);
		const cardId = (await customerRow(first.customerId))?.card_message_id as number;
		const since = await consent(kai, link.token);
		expect((await first.socket.next("channel_linked")).data).toEqual({
			telegram: "kai_w",
		});
		await nextCall(tg, since, (c) => inTopic(c, second.topicId, continuesIn(first.topicId)));
		await nextCall(tg, since, (c) => inTopic(c, first.topicId, linked("@kai_w")));
		const rename = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "editForumTopic" &&
				c.ok &&
				Number(c.params.message_thread_id) === first.topicId,
		);
		expect(rename.params.name).toBe("Kai (@kai_w)");
		await eventually(() =>
			String(tg.message(tg.groupId, cardId)?.text).includes("Channels: web, Telegram"),
		);
		expect(tg.message(tg.groupId, cardId)?.text).toContain("Username: @kai_w");
		await nextCall(tg, since, (c) => inDm(c, kai.id, WELCOME));
		const digest = await nextCall(tg, since, (c) => inDm(c, kai.id, isDigest));
		expectInOrder(String(digest.params.text), [
			"Older web question",
			"Second browser question",
			"Kai from Telegram",
		]);

		expect(await customerRow(second.customerId)).toBeUndefined();
		expect(await customerOfTelegram(kai.id)).toBe(first.customerId);
		for (const session of [first.sessionId, second.sessionId]) {
			expect(await customerOfSession(session)).toBe(first.customerId);
			expect(await ticket(session)).toMatchObject({
				ticketId: first.customerId,
				telegramLinked: true,
				telegramUsername: "kai_w",
			});
		}
		const history = await historyTexts(first.sessionId);
		expect(history).toEqual(["Older web question", "Second browser question", "Kai from Telegram"]);
		expect(await historyTexts(second.sessionId)).toEqual(history);

		// Telegram now leads to the surviving topic, live to the surviving browser too.
		const s1 = tg.calls.length;
		tg.customerSends(kai, "Kai after the merge");
		await nextCall(tg, s1, (c) => inTopic(c, first.topicId, "[TG] Kai after the merge"));
		await first.socket.next((f) => f.type === "message" && f.data.text === "Kai after the merge");
		const posted = await api(service.url, "POST", "/api/chat/message", {
			session: second.sessionId,
			body: { text: "Second browser after the merge" },
		});
		expect(posted.status).toBe(201);
		await nextCall(tg, s1, (c) =>
			inTopic(c, first.topicId, "[WEB] Second browser after the merge"),
		);
		const answer = tg.operatorPosts(first.topicId, "One conversation now");
		await nextCall(tg, s1, copiedTo(kai.id, answer.message_id));
		await first.socket.next(isSupportMessage("One conversation now"));
		expect(tg.calls.slice(s1).some((c) => inTopic(c, second.topicId))).toBe(false);
		first.socket.close();
	}, 20_000);
});

describe("an expired link", () => {
	beforeAll(async () => {
		flow = await startTelegramFlow({ ...BUDGETS, linkToken: { ttl: "1s" } });
	}, 20_000);
	afterAll(async () => {
		await flow?.stop();
	}, 20_000);

	test("a token older than linkToken.ttl gets 'expired', is burnt and changes nothing else", async () => {
		const { tg, service } = flow;
		const web = await webCustomer("Will link too late");
		const link = await linkToken(web.sessionId);
		expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(1000);
		await Bun.sleep(1200);
		const before = await customerRow(web.customerId);
		const leo = newUser("Leo", { username: "leo_late" });
		const since = tg.calls.length;
		tg.customerSends(leo, `/start ${link.token}`);
		await nextCall(tg, since, (c) => inDm(c, leo.id, EXPIRED));
		// A later web message proves the customer's queue moved past whatever /start caused.
		web.socket.send({ type: "message", text: "still web only" });
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, "[WEB] still web only"));
		expect(await customerRow(web.customerId)).toEqual(before);
		expect((await eventRows(web.customerId)).map((e) => e.kind)).not.toContain("LINKED");
		expect(web.socket.frames.some((f) => f.type === "channel_linked")).toBe(false);
		expect(dmTexts(tg, leo.id)).toEqual([EXPIRED]);
		const [token] = await service.database.query<{ used_at: Date | null }>(
			sql`select used_at from link_tokens where customer_id = ${web.customerId}`,
		);
		// Expiry burns the token; Leo got no customer row from it.
		expect(token?.used_at ?? null).not.toBeNull();
		const [leoRows] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers where telegram_user_id = ${leo.id}`,
		);
		expect(Number(leoRows?.n)).toBe(0);
		expect(
			tg.calls
				.slice(since)
				.some((c) => c.method === "editForumTopic" || c.method === "createForumTopic"),
		).toBe(false);
		expect(await ticket(web.sessionId)).toMatchObject({ telegramLinked: false });
		web.socket.close();
	}, 20_000);
});
