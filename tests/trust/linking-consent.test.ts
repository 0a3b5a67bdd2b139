/**
 * Linking needs the Telegram side's consent: `/start <token>` only
 * asks, naming what will be joined; only "Link", pressed by the same account while the token is
 * valid, links. "Cancel" and expiry burn the token; a stranger's press, an unknown, used or
 * expired token change nothing and make no customer row. Before the press, nothing of the
 * Telegram account reaches the web session.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall } from "../support/telegram-double.ts";
import {
	dmTexts,
	newUser,
	nextCall,
	showsText,
	type TelegramFlow,
	useTelegramFlow,
} from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope } from "../support/web-client.ts";

const CONFIRM_TITLE = "Connect this Telegram account to a web chat?";
const USED = "This link was already used. Open the chat on the website to get a new one.";
const EXPIRED =
	"This link has expired. Open the chat on the website and press “Continue in Telegram” again.";
const INVALID =
	"This link is not valid. Open the chat on the website and press “Continue in Telegram” again.";
const CANCELLED = "Cancelled: nothing was connected, and this link no longer works.";
const NOT_YOURS = "This confirmation belongs to another Telegram account.";
const WELCOME =
	"Your web chat is now connected to Telegram. Continue here or on the website: operators' answers arrive in both places.";

type Person = ReturnType<typeof newUser>;

function helpers(current: () => TelegramFlow) {
	const customers = telegramCustomers(current);

	/** A web customer who started on a known page and wrote `questions`, with an open socket. */
	async function webVisitor(page: string, questions: string[]) {
		const { service, tg } = current();
		const init = await api<Envelope<{ sessionId: string }>>(service.url, "POST", "/api/chat/init", {
			body: { pageUrl: `${service.url}${page}` },
			headers: { origin: service.url },
		});
		expect(init.status).toBe(200);
		const sessionId = init.body.data.sessionId;
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		const since = tg.calls.length;
		for (const text of questions) {
			socket.send({ type: "message", text });
			await socket.next((f) => f.type === "message" && f.data.text === text);
		}
		// The last question reached the topic: the customer's queue is settled.
		await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && showsText(c, `[WEB] ${questions.at(-1)}`),
		);
		return { sessionId, socket, customerId: await customers.customerOfSession(sessionId) };
	}

	const confirmation = (userId: number) => (c: ApiCall) =>
		customers.inDm(c, userId, (t) => t.startsWith(CONFIRM_TITLE));

	/** `user` opens the link; returns the confirmation call (text, buttons, message id). */
	async function open(user: Person, token: string) {
		const { tg } = current();
		const since = tg.calls.length;
		tg.customerSends(user, `/start ${token}`);
		const call = await nextCall(tg, since, confirmation(user.id));
		return { call, messageId: (call.result as { message_id: number }).message_id };
	}

	/** Presses a button and waits for the toast; returns the toast's text. */
	async function press(chatId: number, messageId: number, data: string, by?: Person) {
		const { tg } = current();
		const since = tg.calls.length;
		const query = tg.pressButton(chatId, messageId, data, by);
		const toast = await nextCall(
			tg,
			since,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === query.id,
		);
		return toast.params.text as string | undefined;
	}

	async function rowsOf(userId: number) {
		const [row] = await current().service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers where telegram_user_id = ${userId}`,
		);
		return Number(row?.n);
	}

	async function token(customerId: string) {
		const [row] = await current().service.database.query<{
			used_at: Date | null;
			offered_to: number | null;
		}>(sql`select used_at, offered_to from link_tokens where customer_id = ${customerId}
			order by created_at desc limit 1`);
		return row;
	}

	async function status(sessionId: string) {
		const response = await api<Envelope<{ telegramLinked: boolean; telegramUsername: unknown }>>(
			current().service.url,
			"GET",
			"/api/chat/status",
			{ session: sessionId },
		);
		return response.body.data;
	}

	async function history(sessionId: string) {
		const response = await api<Envelope<{ messages: { text: string; channel: string }[] }>>(
			current().service.url,
			"GET",
			"/api/chat/history?limit=100",
			{ session: sessionId },
		);
		return response.body.data.messages;
	}

	return { ...customers, webVisitor, open, press, rowsOf, token, status, history };
}

const linkData = (token: string, answer: "yes" | "no") =>
	`link:${answer}:${token.slice("link_".length)}`;

describe("linking asks first", () => {
	const flow = useTelegramFlow({ outbox: { groupWindow: "1s" } });
	const h = helpers(flow);

	test("the confirmation names the page, the start and the message count; nothing reaches the browser before 'Link', everything after", async () => {
		const { tg } = flow();
		const ada = newUser("Ada", { username: "ada_l" });
		// Ada already talks to the bot: her Telegram history must stay hidden until she consents.
		await h.telegramCustomer(ada, "A secret Telegram question");
		const web = await h.webVisitor("/pricing", ["First web question", "Second web question"]);
		const link = await h.linkToken(web.sessionId);

		const { call, messageId } = await h.open(ada, link.token);
		const text = String(call.params.text);
		expect(text).toContain(`Started on: ${flow().service.url}/pricing`);
		expect(text).toMatch(/Started: \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)/);
		expect(text).toContain("Messages so far: 2");
		expect(text).toContain("becomes visible in that browser");
		expect(call.params.reply_markup).toEqual({
			inline_keyboard: [
				[
					{ text: "Link", callback_data: linkData(link.token, "yes") },
					{ text: "Cancel", callback_data: linkData(link.token, "no") },
				],
			],
		});

		// The confirmation was sent after the /start update committed: its effects are all there.
		expect(web.socket.frames.some((f) => f.type === "channel_linked")).toBe(false);
		expect(await h.status(web.sessionId)).toMatchObject({
			telegramLinked: false,
			telegramUsername: null,
		});
		const before = (await h.history(web.sessionId)).map((m) => m.text);
		expect(before).not.toContain("A secret Telegram question");
		expect((await h.token(web.customerId))?.used_at ?? null).toBeNull();

		const since = tg.calls.length;
		expect(await h.press(ada.id, messageId, linkData(link.token, "yes"))).toBeUndefined();
		expect((await web.socket.next("channel_linked")).data).toEqual({ telegram: "ada_l" });
		await nextCall(tg, since, (c) => h.inDm(c, ada.id, WELCOME));
		// The buttons are gone from the answered confirmation.
		await nextCall(
			tg,
			since,
			(c) =>
				c.method === "editMessageReplyMarkup" && Number(c.params.message_id) === messageId && c.ok,
		);
		const after = (await h.history(web.sessionId)).map((m) => m.text);
		expect(after).toContain("A secret Telegram question");
		expect(await h.status(web.sessionId)).toMatchObject({
			telegramLinked: true,
			telegramUsername: "ada_l",
		});
		expect((await h.token((await h.customerOfTelegram(ada.id)) as string))?.used_at).not.toBeNull();
		web.socket.close();
	}, 20_000);

	test("'Cancel' burns the token: nothing linked, and the same link again is 'used'", async () => {
		const { tg } = flow();
		const bo = newUser("Bo", { username: "bo_c" });
		const web = await h.webVisitor("/help", ["Cancel me"]);
		const link = await h.linkToken(web.sessionId);
		const { messageId } = await h.open(bo, link.token);
		const since = tg.calls.length;
		expect(await h.press(bo.id, messageId, linkData(link.token, "no"))).toBe(CANCELLED);
		await nextCall(
			tg,
			since,
			(c) =>
				c.method === "editMessageText" &&
				Number(c.params.chat_id) === bo.id &&
				c.params.text === CANCELLED,
		);
		expect((await h.token(web.customerId))?.used_at).not.toBeNull();

		const again = tg.calls.length;
		tg.customerSends(bo, `/start ${link.token}`);
		await nextCall(tg, again, (c) => h.inDm(c, bo.id, USED));
		// "Link" on the old confirmation after a cancel changes nothing either.
		expect(await h.press(bo.id, messageId, linkData(link.token, "yes"))).toBe(USED);

		expect(await h.rowsOf(bo.id)).toBe(0);
		expect(await h.status(web.sessionId)).toMatchObject({ telegramLinked: false });
		expect(web.socket.frames.some((f) => f.type === "channel_linked")).toBe(false);
		expect(dmTexts(tg, bo.id).some((t) => t === WELCOME)).toBe(false);
		web.socket.close();
	}, 20_000);

	test("another Telegram account can neither press the confirmation nor open the same link", async () => {
		const { tg } = flow();
		const cy = newUser("Cy", { username: "cy_owner" });
		const eve = newUser("Eve", { username: "eve_intruder" });
		const web = await h.webVisitor("/orders", ["Only Cy may link"]);
		const link = await h.linkToken(web.sessionId);
		const { messageId } = await h.open(cy, link.token);

		// Eve presses Cy's button (a forged or relayed press), then opens Cy's link herself.
		expect(await h.press(cy.id, messageId, linkData(link.token, "yes"), eve)).toBe(NOT_YOURS);
		const since = tg.calls.length;
		tg.customerSends(eve, `/start ${link.token}`);
		await nextCall(tg, since, (c) => h.inDm(c, eve.id, USED));
		expect(await h.rowsOf(eve.id)).toBe(0);
		expect(await h.status(web.sessionId)).toMatchObject({ telegramLinked: false });
		expect(web.socket.frames.some((f) => f.type === "channel_linked")).toBe(false);

		// Cy's own press still links: the token was reserved for Cy, not spent.
		expect(await h.press(cy.id, messageId, linkData(link.token, "yes"))).toBeUndefined();
		expect((await web.socket.next("channel_linked")).data).toEqual({ telegram: "cy_owner" });
		expect(await h.customerOfTelegram(cy.id)).toBe(web.customerId);
		web.socket.close();
	}, 20_000);

	test("an unknown token gets a clear answer and makes no customer row", async () => {
		const { tg, service } = flow();
		const dee = newUser("Dee");
		const [before] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers`,
		);
		const since = tg.calls.length;
		tg.customerSends(dee, `/start link_${"ab".repeat(16)}`);
		await nextCall(tg, since, (c) => h.inDm(c, dee.id, INVALID));
		const [after] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers`,
		);
		expect(Number(after?.n)).toBe(Number(before?.n));
		expect(await h.rowsOf(dee.id)).toBe(0);
	}, 20_000);
});

describe("a confirmation pressed too late", () => {
	const flow = useTelegramFlow({ outbox: { groupWindow: "1s" }, linkToken: { ttl: "1s" } });
	const h = helpers(flow);

	test("'Link' after the token expired is refused, burns the token and links nothing", async () => {
		const { tg } = flow();
		const fay = newUser("Fay", { username: "fay_late" });
		const web = await h.webVisitor("/late", ["Linking too slowly"]);
		const link = await h.linkToken(web.sessionId);
		const { messageId } = await h.open(fay, link.token);
		// Let the token's one-second validity run out while the confirmation waits.
		await Bun.sleep(Math.max(0, Date.parse(link.expiresAt) - Date.now()) + 50);
		const since = tg.calls.length;
		expect(await h.press(fay.id, messageId, linkData(link.token, "yes"))).toBe(EXPIRED);
		await nextCall(tg, since, (c) => c.method === "editMessageText" && c.params.text === EXPIRED);
		expect((await h.token(web.customerId))?.used_at).not.toBeNull();
		expect(await h.rowsOf(fay.id)).toBe(0);
		expect(await h.status(web.sessionId)).toMatchObject({ telegramLinked: false });
		expect(web.socket.frames.some((f) => f.type === "channel_linked")).toBe(false);
		web.socket.close();
	}, 20_000);
});
