/**
 * The operators' desk, end to end through the Bot API double: the pinned
 * card's status buttons, /history and /help, the customer's "✅ Resolved" and rating, reopening a
 * closed ticket, entry links from a website, simultaneous customers, and a deleted topic.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall } from "../support/telegram-double.ts";
import {
	dmTexts,
	eventually,
	newUser,
	nextCall,
	pinnedCard,
	showsText,
	topicIdOf,
	useTelegramFlow,
} from "../support/telegram-flow.ts";
import { api, type Envelope } from "../support/web-client.ts";

/** Roomy flood budgets: these tests are about the desk, not about pacing into the group. */
const BUDGETS = { outbox: { groupWindow: "1s" } };

const STATUS_TEXT = {
	NEW: "🆕 New",
	IN_PROGRESS: "🛠 In progress",
	WAITING_CLIENT: "⏳ Waiting for the customer",
	CLOSED: "✅ Closed",
} as const;
/** /help's answer: a title, then one line per command, /history and /help among them. */
const isHelp = (text: unknown) =>
	typeof text === "string" &&
	text.startsWith("Commands in a customer topic:") &&
	text.includes("\n/history — the ticket's events") &&
	text.includes("\n/help — this list");
const CLOSED_DM = "Your request is closed. Just write here again if you need anything else.";
const RATE_ASK = "How would you rate our support?";
const REOPENED = "The customer wrote again: the ticket is reopened.";
const RECREATED = "The previous topic was deleted or closed; the conversation continues here.";
const GREETING = "Hello! Write your question here and our support team will answer in this chat.";
const BROWSER =
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

const flow = useTelegramFlow(BUDGETS);

// ---------------------------------------------------------------- helpers

const customers = telegramCustomers(flow);
const { inTopic, inDm, eventRows, webCustomer } = customers;

/** A Telegram customer who asked a question; their topic and pinned card exist. */
const telegramCustomer = (name: string, extra: Parameters<typeof newUser>[1] = {}) =>
	customers.telegramCustomer(newUser(name, extra), `${name} needs help`);

/** The topic notice of a status change. */
const statusChanged = (status: keyof typeof STATUS_TEXT) =>
	`Status changed: ${STATUS_TEXT[status]}`;

const cardEdit = (call: ApiCall, cardId: number) =>
	call.method === "editMessageText" &&
	call.ok &&
	Number(call.params.chat_id) === flow().tg.groupId &&
	Number(call.params.message_id) === cardId;

/** An edit of the card that shows this status. */
const cardShows = (call: ApiCall, cardId: number, status: keyof typeof STATUS_TEXT) =>
	cardEdit(call, cardId) && String(call.params.text).includes(`Status: ${STATUS_TEXT[status]}`);

const answerOf = (call: ApiCall, queryId: string) =>
	call.method === "answerCallbackQuery" && call.params.callback_query_id === queryId;

/** An operator presses a status button on the card; returns the bot's answer to the press. */
async function pressStatus(cardId: number, status: keyof typeof STATUS_TEXT) {
	const { tg } = flow();
	const since = tg.calls.length;
	const press = tg.pressButton(tg.groupId, cardId, `status:${status}`);
	return nextCall(tg, since, (c) => answerOf(c, press.id));
}

/**
 * The card's buttons as operators get them: every status but NEW and the current one, and
 * "Take" on a row of its own.
 */
function buttonsFor(current: keyof typeof STATUS_TEXT) {
	const choices = (["IN_PROGRESS", "WAITING_CLIENT", "CLOSED"] as const).filter(
		(s) => s !== current,
	);
	return {
		inline_keyboard: [
			choices.map((s) => ({ text: STATUS_TEXT[s], callback_data: `status:${s}` })),
			[{ text: "🙋 Take", callback_data: "take" }],
		],
	};
}

async function customerRow(where: { id?: string; telegramUserId?: number }) {
	const condition =
		where.id !== undefined
			? sql`id = ${where.id}`
			: sql`telegram_user_id = ${where.telegramUserId ?? -1}`;
	const [row] = await flow().service.database.query<{
		id: string;
		status: string;
		topic_id: number | null;
		card_message_id: number | null;
		source_url: string | null;
	}>(
		sql`select id, status, topic_id, card_message_id, source_url from customers where ${condition}`,
	);
	if (!row) throw new Error(`no customer ${JSON.stringify(where)}`);
	return {
		...row,
		topic_id: row.topic_id == null ? null : Number(row.topic_id),
		card_message_id: row.card_message_id == null ? null : Number(row.card_message_id),
	};
}

/** An operator reply that reached the customer's private chat; returns the DM copy's id. */
async function operatorAnswers(customer: { user: { id: number }; topicId: number }, text: string) {
	const { tg } = flow();
	const since = tg.calls.length;
	const posted = tg.operatorPosts(customer.topicId, text);
	const copy = await nextCall(
		tg,
		since,
		(c) =>
			c.method === "copyMessage" &&
			c.ok &&
			Number(c.params.chat_id) === customer.user.id &&
			Number(c.params.message_id) === posted.message_id,
	);
	return (copy.result as { message_id: number }).message_id;
}

/** Waits until the delivered answer moved the ticket to IN_PROGRESS (notice, card and row). */
async function inProgress(customer: { topicId: number; cardId: number; customerId: string }) {
	const { tg } = flow();
	await nextCall(tg, 0, (c) => inTopic(c, customer.topicId, statusChanged("IN_PROGRESS")));
	await nextCall(tg, 0, (c) => cardShows(c, customer.cardId, "IN_PROGRESS"));
	expect((await customerRow({ id: customer.customerId })).status).toBe("IN_PROGRESS");
}

/**
 * Waits until the bot has handled everything before this point for the customer: updates are
 * applied in order and the customer's outbox in order, so `/help`'s answer comes after both.
 */
async function settle(topicId: number) {
	const { tg } = flow();
	const since = tg.calls.length;
	tg.operatorPosts(topicId, "/help");
	await nextCall(tg, since, (c) => inTopic(c, topicId) && isHelp(c.params.text));
	// Card edits wait until the customer's messages and notices are out: they may follow it.
	await waitForOutboxIdle(flow().service);
}

/**
 * Waits for the topic made after `since` under this name and for the customer's message copied
 * into it; returns the new topic's id.
 */
async function recreatedTopic(since: number, name: string, messageId: number) {
	const { tg } = flow();
	const created = await nextCall(
		tg,
		since,
		(c) => c.method === "createForumTopic" && c.ok && c.params.name === name,
	);
	const fresh = (created.result as { message_thread_id: number }).message_thread_id;
	await nextCall(
		tg,
		since,
		(c) =>
			c.method === "copyMessage" &&
			c.ok &&
			Number(c.params.message_thread_id) === fresh &&
			Number(c.params.message_id) === messageId,
	);
	return fresh;
}

/** Times as operators read them: DISPLAY_TIMEZONE (UTC in tests), `YYYY-MM-DD HH:mm`. */
const shownTime = (at: Date | string) => new Date(at).toISOString().slice(0, 16).replace("T", " ");

// ---------------------------------------------------------------- card buttons

describe("the card's status buttons", () => {
	test("choosing a status: event, card with the other buttons, topic notice, web status frame and a callback answer", async () => {
		const { tg, service } = flow();
		const web = await webCustomer("Please change my delivery address");
		const [card] = tg.topics.get(web.topicId)?.messages ?? [];
		expect(card?.message_id).toBe(web.cardId);
		await pinnedCard(tg, web.cardId);
		expect(card?.text).toContain(`Status: ${STATUS_TEXT.NEW}`);
		expect(card?.reply_markup).toEqual(buttonsFor("NEW"));

		const since = tg.calls.length;
		const answer = await pressStatus(web.cardId, "WAITING_CLIENT");
		expect(answer.params.text).toBe(`Status: ${STATUS_TEXT.WAITING_CLIENT}`);
		const frame = await web.socket.next("status");
		expect(frame.data).toEqual({ status: "WAITING_CLIENT" });
		const edit = await nextCall(tg, since, (c) => cardEdit(c, web.cardId));
		expect(String(edit.params.text)).toContain(`Status: ${STATUS_TEXT.WAITING_CLIENT}`);
		expect(edit.params.reply_markup).toEqual(buttonsFor("WAITING_CLIENT"));
		expect(tg.message(tg.groupId, web.cardId)?.reply_markup).toEqual(buttonsFor("WAITING_CLIENT"));
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, statusChanged("WAITING_CLIENT")));

		const events = await eventRows(web.customerId);
		expect(events.at(-1)).toMatchObject({
			kind: "STATUS_CHANGED",
			from_status: "NEW",
			to_status: "WAITING_CLIENT",
			actor: `operator:${tg.operator.id}`,
		});
		expect((await customerRow({ id: web.customerId })).status).toBe("WAITING_CLIENT");
		const status = await api<Envelope<{ status: string }>>(service.url, "GET", "/api/chat/status", {
			session: web.sessionId,
		});
		expect(status.body.data.status).toBe("WAITING_CLIENT");

		// Close from the card as well: the buttons follow again.
		const s2 = tg.calls.length;
		expect((await pressStatus(web.cardId, "CLOSED")).params.text).toBe(
			`Status: ${STATUS_TEXT.CLOSED}`,
		);
		expect((await web.socket.next("status")).data).toEqual({ status: "CLOSED" });
		const closedCard = await nextCall(tg, s2, (c) => cardEdit(c, web.cardId));
		expect(closedCard.params.reply_markup).toEqual(buttonsFor("CLOSED"));
		await nextCall(tg, s2, (c) => inTopic(c, web.topicId, "The ticket is closed."));
		expect((await eventRows(web.customerId)).at(-1)).toMatchObject({
			kind: "CLOSED",
			from_status: "WAITING_CLIENT",
			to_status: "CLOSED",
		});
		web.socket.close();
	}, 20_000);

	test("the current status and NEW are refused with an answer and change nothing", async () => {
		const { tg } = flow();
		const web = await webCustomer("Refused buttons");
		const first = tg.calls.length;
		await pressStatus(web.cardId, "IN_PROGRESS");
		await nextCall(tg, first, (c) => cardEdit(c, web.cardId));
		await nextCall(tg, first, (c) => inTopic(c, web.topicId, statusChanged("IN_PROGRESS")));
		await web.socket.next("status");
		const events = (await eventRows(web.customerId)).length;

		const since = tg.calls.length;
		expect((await pressStatus(web.cardId, "IN_PROGRESS")).params.text).toBe(
			`The status is already ${STATUS_TEXT.IN_PROGRESS}.`,
		);
		expect((await pressStatus(web.cardId, "NEW")).params.text).toBe(
			"This status is only set automatically.",
		);
		await settle(web.topicId);
		expect(await eventRows(web.customerId)).toHaveLength(events);
		expect((await customerRow({ id: web.customerId })).status).toBe("IN_PROGRESS");
		expect(tg.calls.slice(since).filter((c) => cardEdit(c, web.cardId))).toEqual([]);
		expect(
			tg.calls.slice(since).filter((c) => inTopic(c, web.topicId) && !isHelp(c.params.text)),
		).toEqual([]);
		expect(web.socket.frames.filter((f) => f.type === "status")).toHaveLength(1);
		web.socket.close();
	}, 20_000);

	test("a status button pressed in any other chat is ignored", async () => {
		const { tg } = flow();
		const customer = await telegramCustomer("Ines");
		const dmCopy = await operatorAnswers(customer, "Checking your case");
		await inProgress(customer);
		const events = (await eventRows(customer.customerId)).length;
		const since = tg.calls.length;
		// A forged press in the customer's private chat, by the customer and by an operator.
		tg.pressButton(customer.user.id, dmCopy, "status:CLOSED");
		tg.pressButton(customer.user.id, dmCopy, "status:WAITING_CLIENT", tg.operator);
		await settle(customer.topicId);
		expect((await customerRow({ id: customer.customerId })).status).toBe("IN_PROGRESS");
		expect(await eventRows(customer.customerId)).toHaveLength(events);
		expect(tg.calls.slice(since).filter((c) => cardEdit(c, customer.cardId))).toEqual([]);
		expect(dmTexts(tg, customer.user.id)).not.toContain(CLOSED_DM);
	}, 20_000);
});

// ---------------------------------------------------------------- commands

describe("/history and /help", () => {
	test("/history lists the ticket's events oldest first with times; /help lists the commands; neither reaches the customer", async () => {
		const { tg, service } = flow();
		const customer = await telegramCustomer("Hugo");
		const s0 = tg.calls.length;
		tg.customerSends(customer.user, {
			contact: { phone_number: "+15550123", first_name: "Hugo", user_id: customer.user.id },
		});
		await nextCall(tg, s0, (c) => inDm(c, customer.user.id, "Thank you, we saved your number."));
		await operatorAnswers(customer, "Hello Hugo");
		await nextCall(tg, s0, (c) => inTopic(c, customer.topicId, statusChanged("IN_PROGRESS")));
		await pressStatus(customer.cardId, "WAITING_CLIENT");
		await nextCall(tg, s0, (c) => inTopic(c, customer.topicId, statusChanged("WAITING_CLIENT")));

		const since = tg.calls.length;
		tg.operatorPosts(customer.topicId, "/history");
		const history = await nextCall(
			tg,
			since,
			(c) => inTopic(c, customer.topicId) && String(c.params.text).startsWith("Ticket history"),
		);
		const events = await eventRows(customer.customerId);
		// The first to answer took the ticket (assignment.auto "first-reply").
		expect(events.map((e) => e.kind)).toEqual([
			"OPENED",
			"PHONE_UPDATED",
			"ASSIGNED",
			"STATUS_CHANGED",
			"STATUS_CHANGED",
		]);
		const [opened, phone, assigned, inProgress, waiting] = events.map((e) =>
			shownTime(e.created_at),
		);
		expect(String(history.params.text).split("\n")).toEqual([
			"Ticket history (last 5 events, UTC):",
			`${opened} · opened · customer`,
			`${phone} · phone updated · customer`,
			`${assigned} · assigned to @olga_operator · operator`,
			`${inProgress} · status → ${STATUS_TEXT.IN_PROGRESS} · operator`,
			`${waiting} · status → ${STATUS_TEXT.WAITING_CLIENT} · operator`,
		]);

		tg.operatorPosts(customer.topicId, "/help");
		await nextCall(tg, since, (c) => inTopic(c, customer.topicId) && isHelp(c.params.text));
		// A later real answer proves the commands were handled before it, and not forwarded.
		await operatorAnswers(customer, "Real answer after the commands");
		const toCustomer = tg.calls
			.slice(since)
			.filter(
				(c) =>
					(c.method === "copyMessage" || c.method === "sendMessage") &&
					Number(c.params.chat_id) === customer.user.id,
			);
		expect(toCustomer).toHaveLength(1);
		expect(tg.messagesIn(customer.user.id).map((m) => m.text)).not.toContain("/history");
		const [stored] = await service.database.query<{ n: string }>(
			sql`select count(*) as n from messages where customer_id = ${customer.customerId}
				and (text like '/history%' or text like '/help%' or text like 'Ticket history%')`,
		);
		expect(Number(stored?.n)).toBe(0);
		// Commands are not operator replies: WAITING_CLIENT stays until the real answer.
		expect((await eventRows(customer.customerId)).map((e) => e.kind)).toHaveLength(5);
	}, 20_000);
});

// ---------------------------------------------------------------- the customer closes and rates

describe("resolve, rate, reopen", () => {
	test("“✅ Resolved” closes the ticket, tells the customer and asks for a rating; rate:5 is stored and shown in the topic", async () => {
		const { tg } = flow();
		const customer = await telegramCustomer("Rosa");
		const dmCopy = await operatorAnswers(customer, "Your refund is on its way");
		await inProgress(customer);
		const since = tg.calls.length;
		const resolve = tg.pressButton(customer.user.id, dmCopy, "resolve");
		expect((await nextCall(tg, since, (c) => answerOf(c, resolve.id))).params.text).toBe(
			"Thank you!",
		);
		await nextCall(tg, since, (c) => inDm(c, customer.user.id, CLOSED_DM));
		const ask = await nextCall(tg, since, (c) => inDm(c, customer.user.id, RATE_ASK));
		expect(ask.params.reply_markup).toEqual({
			inline_keyboard: [
				[1, 2, 3, 4, 5].map((n) => ({ text: expect.any(String), callback_data: `rate:${n}` })),
			],
		});
		await nextCall(tg, since, (c) => inTopic(c, customer.topicId, "The ticket is closed."));
		const card = await nextCall(tg, since, (c) => cardShows(c, customer.cardId, "CLOSED"));
		expect(card.params.reply_markup).toEqual(buttonsFor("CLOSED"));
		expect((await customerRow({ id: customer.customerId })).status).toBe("CLOSED");
		expect((await eventRows(customer.customerId)).at(-1)).toMatchObject({
			kind: "CLOSED",
			to_status: "CLOSED",
			actor: "customer",
		});

		const s2 = tg.calls.length;
		const ratingMessage = (ask.result as { message_id: number }).message_id;
		const rate = tg.pressButton(customer.user.id, ratingMessage, "rate:5");
		await nextCall(tg, s2, (c) => answerOf(c, rate.id));
		await nextCall(tg, s2, (c) =>
			inTopic(c, customer.topicId, "The customer rated the support 5/5."),
		);
		const rated = (await eventRows(customer.customerId)).filter((e) => e.kind === "RATED");
		expect(rated).toHaveLength(1);
		expect(rated[0]?.details).toMatchObject({ rating: 5 });
		expect((await customerRow({ id: customer.customerId })).status).toBe("CLOSED");
	}, 20_000);

	test("“✅ Resolved” pressed the moment the answer arrives: the answer's delivery does not reopen the closed ticket", async () => {
		const { tg } = flow();
		const customer = await telegramCustomer("Raul");
		// The customer presses the button as soon as the copy is in their chat, while the bot is
		// still recording that the answer was delivered (NEW → IN_PROGRESS).
		const dmCopy = await operatorAnswers(customer, "Done, anything else?");
		const since = tg.calls.length;
		const resolve = tg.pressButton(customer.user.id, dmCopy, "resolve");
		await nextCall(tg, since, (c) => answerOf(c, resolve.id));
		await nextCall(tg, since, (c) => inDm(c, customer.user.id, RATE_ASK));
		await settle(customer.topicId);
		const events = await eventRows(customer.customerId);
		const changes = events.filter((e) => e.to_status !== null);
		expect(changes.at(-1)).toMatchObject({
			kind: "CLOSED",
			to_status: "CLOSED",
			actor: "customer",
		});
		expect(events.map((e) => e.kind)).not.toContain("REOPENED");
		expect((await customerRow({ id: customer.customerId })).status).toBe("CLOSED");
		expect(tg.calls.slice(since).some((c) => inTopic(c, customer.topicId, REOPENED))).toBe(false);
		expect(tg.message(tg.groupId, customer.cardId)?.text).toContain(
			`Status: ${STATUS_TEXT.CLOSED}`,
		);
	}, 20_000);

	test("a message to a CLOSED ticket reopens it: status NEW, event REOPENED, notice before the copied message", async () => {
		const { tg } = flow();
		const customer = await telegramCustomer("Otto");
		const s0 = tg.calls.length;
		await pressStatus(customer.cardId, "CLOSED");
		await nextCall(tg, s0, (c) => inDm(c, customer.user.id, RATE_ASK));
		await nextCall(tg, s0, (c) => inTopic(c, customer.topicId, "The ticket is closed."));
		expect((await customerRow({ id: customer.customerId })).status).toBe("CLOSED");

		const since = tg.calls.length;
		const again = tg.customerSends(customer.user, "One more thing, please");
		const notice = await nextCall(tg, since, (c) => inTopic(c, customer.topicId, REOPENED));
		const copy = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "copyMessage" &&
				c.ok &&
				Number(c.params.chat_id) === tg.groupId &&
				Number(c.params.message_id) === again.message_id,
		);
		expect(Number(copy.params.message_thread_id)).toBe(customer.topicId);
		expect(tg.calls.indexOf(notice)).toBeLessThan(tg.calls.indexOf(copy));
		const texts = (tg.topics.get(customer.topicId)?.messages ?? []).map((m) => m.text);
		expect(texts.indexOf(REOPENED)).toBeLessThan(texts.indexOf("One more thing, please"));
		expect(texts.indexOf(REOPENED)).toBeGreaterThan(texts.indexOf("The ticket is closed."));
		const card = await nextCall(tg, since, (c) => cardShows(c, customer.cardId, "NEW"));
		expect(card.params.reply_markup).toEqual(buttonsFor("NEW"));
		expect((await customerRow({ id: customer.customerId })).status).toBe("NEW");
		expect((await eventRows(customer.customerId)).at(-1)).toMatchObject({
			kind: "REOPENED",
			from_status: "CLOSED",
			to_status: "NEW",
			actor: "customer",
		});
		// Same topic for life: no new one.
		expect(tg.calls.slice(since).some((c) => c.method === "createForumTopic")).toBe(false);
	}, 20_000);
});

// ---------------------------------------------------------------- entry links

describe("entry links from a website", () => {
	test("/ask-support redirects to the bot; /start <id> then a question puts the source page on the card", async () => {
		const { tg, service } = flow();
		const page = "http://localhost:8080/pricing?plan=pro";
		const response = await fetch(`${service.url}/ask-support?url=${encodeURIComponent(page)}`, {
			redirect: "manual",
			headers: { "user-agent": BROWSER },
		});
		expect(response.status).toBe(302);
		const location = response.headers.get("location") ?? "";
		const match = /^https:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]{1,64})$/.exec(location);
		expect(match?.[1]).toBe(tg.botUser.username);
		const contextId = match?.[2] as string;

		const crawler = await fetch(`${service.url}/ask-support?url=${encodeURIComponent(page)}`, {
			redirect: "manual",
			headers: { "user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" },
		});
		expect(crawler.status).toBe(403);

		const nina = newUser("Nina", { username: "nina_s" });
		const since = tg.calls.length;
		tg.customerSends(nina, `/start ${contextId}`);
		await nextCall(tg, since, (c) => inDm(c, nina.id, GREETING));
		tg.customerSends(nina, "Is the Pro plan billed monthly?");
		const topicId = await topicIdOf(service, nina.id);
		await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && c.ok && showsText(c, "Is the Pro plan billed monthly?"),
		);
		// The question stands under the card, in one message.
		const [card, ...rest] = tg.topics.get(topicId)?.messages ?? [];
		expect(card?.text).toContain(`Source page: ${page}`);
		expect(card?.text).toEndWith("\n\nIs the Pro plan billed monthly?");
		expect(rest).toEqual([]);
		expect((await customerRow({ telegramUserId: nina.id })).source_url).toBe(page);
	}, 20_000);
});

// ---------------------------------------------------------------- topics

describe("topics", () => {
	test("two customers writing at the same moment get exactly one topic each, holding only their own messages in order", async () => {
		const { tg, service } = flow();
		const alma = newUser("Alma", { username: "alma_a" });
		const boris = newUser("Boris", { username: "boris_b" });
		const since = tg.calls.length;
		const count = 5;
		await Promise.all(
			Array.from({ length: count }, (_, i) => [
				Promise.resolve().then(() => tg.customerSends(alma, `Alma ${i}`)),
				Promise.resolve().then(() => tg.customerSends(boris, `Boris ${i}`)),
			]).flat(),
		);
		await eventually(
			() =>
				tg.calls
					.slice(since)
					.filter(
						(c) => c.method === "copyMessage" && c.ok && Number(c.params.chat_id) === tg.groupId,
					).length ===
				// Each customer's first message goes under their card; the others are copies.
				(count - 1) * 2,
			10_000,
		);
		const created = tg.calls.slice(since).filter((c) => c.method === "createForumTopic" && c.ok);
		expect(created.map((c) => c.params.name).sort()).toEqual([
			"Alma (@alma_a)",
			"Boris (@boris_b)",
		]);
		for (const [user, name] of [
			[alma, "Alma"],
			[boris, "Boris"],
		] as const) {
			const topicId = await topicIdOf(service, user.id);
			const [card, ...rest] = tg.topics.get(topicId)?.messages ?? [];
			expect(card?.text).toStartWith("📋");
			expect(card?.text).toContain(`${name} (@${user.username})`);
			expect(card?.text).toEndWith(`\n\n${name} 0`);
			await pinnedCard(tg, card?.message_id ?? -1);
			expect(rest.map((m) => m.text)).toEqual(
				Array.from({ length: count - 1 }, (_, i) => `${name} ${i + 1}`),
			);
		}
		expect(await topicIdOf(service, alma.id)).not.toBe(await topicIdOf(service, boris.id));
	}, 20_000);

	test("a topic deleted by an operator is recreated on the next message: new pinned card, notice, the message, and the customer row follows", async () => {
		const { tg, service } = flow();
		const customer = await telegramCustomer("Dora", { last_name: "Diaz", username: "dora_d" });
		tg.deleteTopic(customer.topicId);
		const since = tg.calls.length;
		const next = tg.customerSends(customer.user, "Are you still there?");
		const fresh = await recreatedTopic(since, "Dora Diaz (@dora_d)", next.message_id);
		expect(fresh).not.toBe(customer.topicId);
		const [card, notice, message, ...rest] = tg.topics.get(fresh)?.messages ?? [];
		expect(card?.text).toStartWith("📋");
		expect(card?.text).toContain("Dora Diaz (@dora_d)");
		await pinnedCard(tg, card?.message_id ?? -1);
		expect(notice?.text).toBe(RECREATED);
		expect(message?.text).toBe("Are you still there?");
		expect(rest).toEqual([]);
		const row = await customerRow({ id: customer.customerId });
		expect(row.topic_id).toBe(fresh);
		expect(row.card_message_id).toBe(card?.message_id as number);
		const copy = await eventually(async () => {
			const [row] = await service.database.query<{ telegram_message_id: number; state: string }>(
				sql`select c.telegram_message_id, c.state from message_copies c join messages m on m.id = c.message_id
					where m.customer_id = ${customer.customerId} and m.text = 'Are you still there?' and c.kind = 'topic'`,
			);
			return row;
		});
		expect(Number(copy.telegram_message_id)).toBe(message?.message_id as number);
		expect(copy.state).toBe("delivered");

		// The conversation simply goes on in the new topic.
		const s2 = tg.calls.length;
		await operatorAnswers({ user: customer.user, topicId: fresh }, "Yes, still here");
		tg.customerSends(customer.user, "Great");
		await nextCall(
			tg,
			s2,
			(c) => c.method === "copyMessage" && c.ok && Number(c.params.message_thread_id) === fresh,
		);
		expect(tg.calls.slice(s2).some((c) => c.method === "createForumTopic")).toBe(false);
	}, 20_000);

	test("a topic closed by an operator is treated like a deleted one: the next message continues in a new topic", async () => {
		const { tg } = flow();
		const customer = await telegramCustomer("Cleo", { username: "cleo_c" });
		tg.closeTopic(customer.topicId);
		const since = tg.calls.length;
		const next = tg.customerSends(customer.user, "Hello again after the close");
		const fresh = await recreatedTopic(since, "Cleo (@cleo_c)", next.message_id);
		const [card, notice, message] = tg.topics.get(fresh)?.messages ?? [];
		expect(card?.text).toStartWith("📋");
		await pinnedCard(tg, card?.message_id ?? -1);
		expect(notice?.text).toBe(RECREATED);
		expect(message?.text).toBe("Hello again after the close");
		expect((await customerRow({ id: customer.customerId })).topic_id).toBe(fresh);
	}, 20_000);
});
