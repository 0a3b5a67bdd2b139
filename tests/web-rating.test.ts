/**
 * Rating a closed ticket from the widget (`POST /api/chat/rate`, the socket's `rate` frame),
 * whoever closed it (the visitor, an operator, auto-close), once per close and whichever channel
 * rated first (the Telegram rating buttons included), end to end through the real service, real
 * sockets and the Bot API double.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "./support/telegram-customers.ts";
import { eventually, newUser, nextCall, useTelegramFlow } from "./support/telegram-flow.ts";
import {
	api,
	connectSocket,
	type Envelope,
	type Frame,
	initSession,
} from "./support/web-client.ts";

const flow = useTelegramFlow({
	outbox: { groupWindow: "1s" },
	waiting: { reminder: "1s", autoclose: "2s" },
});
const { inTopic, inDm, eventRows, webCustomer, linkConfirmed } = telegramCustomers(flow);

const RATED = (n: number) => `The customer rated the support ${n}/5.`;
const RATE_ASK = "How would you rate our support?";
const NOTHING_TO_RATE_TOAST =
	"There is nothing to rate right now: it was already rated, or the request is open again.";

type Web = Awaited<ReturnType<typeof webCustomer>>;

function rate(sessionId: string | undefined, body: unknown) {
	return api<Envelope<{ ticketId: string; rating: number }>>(
		flow().service.url,
		"POST",
		"/api/chat/rate",
		{ session: sessionId, body },
	);
}

async function status(sessionId: string) {
	const response = await api<Envelope<{ status: string; canRate: boolean; ticketId: string }>>(
		flow().service.url,
		"GET",
		"/api/chat/status",
		{ session: sessionId },
	);
	expect(response.status).toBe(200);
	return response.body.data;
}

async function init(sessionId: string) {
	const response = await api<Envelope<{ status: string; canRate: boolean }>>(
		flow().service.url,
		"POST",
		"/api/chat/init",
		{ session: sessionId },
	);
	expect(response.status).toBe(200);
	return response.body.data;
}

async function ratedRows(customerId: string) {
	return (await eventRows(customerId)).filter((e) => e.kind === "RATED");
}

/** Waits until everything owed to Telegram for the customer was delivered: nothing more follows. */
async function outboxDrained(customerId: string) {
	await eventually(async () => {
		const [row] = await flow().service.database.query<{ n: string }>(
			sql`select count(*) as n from outbox where customer_id = ${customerId} and state = 'pending'`,
		);
		return Number(row?.n) === 0;
	});
}

/** How many notices with this text the bot has put into the topic so far. */
const noticesIn = (topicId: number, text: string) =>
	flow().tg.calls.filter((c) => inTopic(c, topicId, text)).length;

const isRated = (rating: number) => (f: Frame) => f.type === "rated" && f.data.rating === rating;

/** The visitor closes their own ticket over HTTP; waits for the close notice in the topic. */
async function closeByVisitor(web: Web, body: Record<string, unknown> = {}) {
	const { tg, service } = flow();
	const since = tg.calls.length;
	const closed = await api(service.url, "POST", "/api/chat/close", {
		session: web.sessionId,
		body,
	});
	expect(closed.status).toBe(200);
	await web.socket.next((f) => f.type === "status" && f.data.status === "CLOSED");
	await nextCall(tg, since, (c) => inTopic(c, web.topicId, "The ticket is closed."));
}

/** An operator presses a status button on the card; waits for the bot's answer. */
async function pressStatus(web: Web, wanted: string) {
	const { tg } = flow();
	const since = tg.calls.length;
	const press = tg.pressButton(tg.groupId, web.cardId, `status:${wanted}`);
	await nextCall(
		tg,
		since,
		(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === press.id,
	);
}

function expectNothingToRate(response: Awaited<ReturnType<typeof rate>>) {
	expect(response.status).toBe(400);
	expect(response.body).toMatchObject({ success: false, error: { code: "NOTHING_TO_RATE" } });
	expect(response.body.error.message.length).toBeGreaterThan(0);
}

describe("POST /api/chat/rate", () => {
	test("open ticket: nothing to rate; after the visitor's close: rated once, stored, shown in the topic, sockets told", async () => {
		const { tg } = flow();
		const web = await webCustomer("My parcel is lost");
		expect((await status(web.sessionId)).canRate).toBe(false);
		expect((await init(web.sessionId)).canRate).toBe(false);
		expectNothingToRate(await rate(web.sessionId, { rating: 5 }));
		expect(await ratedRows(web.customerId)).toHaveLength(0);

		await closeByVisitor(web);
		expect(await status(web.sessionId)).toMatchObject({ status: "CLOSED", canRate: true });
		expect(await init(web.sessionId)).toMatchObject({ status: "CLOSED", canRate: true });

		const since = tg.calls.length;
		const rated = await rate(web.sessionId, { rating: 4, feedback: "  Found it in the end  " });
		expect(rated.status).toBe(200);
		expect(rated.body as unknown).toEqual({
			success: true,
			data: { ticketId: web.customerId, rating: 4 },
		});
		expect((await web.socket.next(isRated(4))).data).toEqual({ rating: 4 });
		const notice = await nextCall(tg, since, (c) => inTopic(c, web.topicId, RATED(4)));
		expect(Number(notice.params.chat_id)).toBe(tg.groupId);
		await nextCall(tg, since, (c) =>
			inTopic(c, web.topicId, "Customer feedback: Found it in the end"),
		);
		const events = await eventRows(web.customerId);
		expect(events.slice(-2).map((e) => [e.kind, e.actor, e.details])).toEqual([
			["RATED", "customer", { rating: 4 }],
			["FEEDBACK", "customer", { feedback: "Found it in the end" }],
		]);
		expect((await status(web.sessionId)).canRate).toBe(false);

		// Rated since the last close: a second rating changes nothing anywhere.
		expectNothingToRate(await rate(web.sessionId, { rating: 1 }));
		await outboxDrained(web.customerId);
		expect(await ratedRows(web.customerId)).toHaveLength(1);
		expect(noticesIn(web.topicId, RATED(4))).toBe(1);
		expect(noticesIn(web.topicId, RATED(1))).toBe(0);
		expect(web.socket.frames.filter((f) => f.type === "rated")).toHaveLength(1);

		// Writing again reopens: nothing to rate until the next close, which may be rated again.
		const s2 = tg.calls.length;
		web.socket.send({ type: "message", text: "Sorry, one more question" });
		await nextCall(tg, s2, (c) => inTopic(c, web.topicId, "[WEB] Sorry, one more question"));
		expect(await status(web.sessionId)).toMatchObject({ status: "NEW", canRate: false });
		expectNothingToRate(await rate(web.sessionId, { rating: 2 }));
		await closeByVisitor(web);
		expect((await status(web.sessionId)).canRate).toBe(true);
		const s3 = tg.calls.length;
		expect((await rate(web.sessionId, { rating: 2 })).status).toBe(200);
		await nextCall(tg, s3, (c) => inTopic(c, web.topicId, RATED(2)));
		expect((await ratedRows(web.customerId)).map((e) => e.details)).toEqual([
			{ rating: 4 },
			{ rating: 2 },
		]);
		web.socket.close();
	}, 20_000);

	test("a close that carried a rating counts: rating again is NOTHING_TO_RATE", async () => {
		const web = await webCustomer("Wrong size delivered");
		await closeByVisitor(web, { resolved: true, rating: 5 });
		await nextCall(flow().tg, 0, (c) => inTopic(c, web.topicId, RATED(5)));
		expect((await status(web.sessionId)).canRate).toBe(false);
		expectNothingToRate(await rate(web.sessionId, { rating: 3 }));
		await outboxDrained(web.customerId);
		expect(await ratedRows(web.customerId)).toHaveLength(1);
		expect(noticesIn(web.topicId, RATED(3))).toBe(0);
		web.socket.close();
	});

	test("closed by an operator's card button: the visitor rates it", async () => {
		const { tg } = flow();
		const web = await webCustomer("Can I change my address?");
		await pressStatus(web, "CLOSED");
		await web.socket.next((f) => f.type === "status" && f.data.status === "CLOSED");
		expect(await status(web.sessionId)).toMatchObject({ status: "CLOSED", canRate: true });
		const since = tg.calls.length;
		expect((await rate(web.sessionId, { rating: 3 })).status).toBe(200);
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, RATED(3)));
		expect((await ratedRows(web.customerId)).map((e) => e.details)).toEqual([{ rating: 3 }]);
		web.socket.close();
	});

	test("closed by auto-close while waiting for the customer: the visitor rates it", async () => {
		const { tg } = flow();
		const web = await webCustomer("Is the shop open on Sunday?");
		await pressStatus(web, "WAITING_CLIENT");
		await web.socket.next(
			(f) => f.type === "status" && f.data.status === "CLOSED",
			// waiting.autoclose is 2 s in this file's config.
			8000,
		);
		const closed = (await eventRows(web.customerId)).find((e) => e.kind === "CLOSED");
		expect(closed?.actor).toBe("system:autoclose");
		expect((await status(web.sessionId)).canRate).toBe(true);
		const since = tg.calls.length;
		expect((await rate(web.sessionId, { rating: 5 })).status).toBe(200);
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, RATED(5)));
		web.socket.close();
	}, 15_000);

	test("bad input is 400 in the envelope with nothing stored or sent; no session is 401", async () => {
		const { tg, service } = flow();
		const web = await webCustomer("Refund please");
		await closeByVisitor(web);
		await outboxDrained(web.customerId);
		const since = tg.calls.length;
		for (const body of [
			{ rating: 0 },
			{ rating: 6 },
			{ rating: 2.5 },
			{ rating: "5" },
			{},
			{ feedback: "no rating" },
			{ rating: 5, feedback: "x".repeat(2001) },
			{ rating: 5, feedback: 42 },
			null,
		]) {
			const response = await rate(web.sessionId, body);
			expect(response.status, JSON.stringify(body)).toBe(400);
			expect(response.body.success).toBe(false);
			expect(response.body.error.code).toBe("INVALID_REQUEST");
		}
		const broken = await api<Envelope>(service.url, "POST", "/api/chat/rate", {
			session: web.sessionId,
			rawBody: '{"rating": 5',
		});
		expect(broken.status).toBe(400);
		expect(broken.body.success).toBe(false);
		const anonymous = await rate(undefined, { rating: 5 });
		expect(anonymous.status).toBe(401);
		expect(anonymous.body.error.code).toBe("SESSION_NOT_FOUND");
		const unknown = await rate(crypto.randomUUID(), { rating: 5 });
		expect(unknown.status).toBe(401);

		expect(await ratedRows(web.customerId)).toHaveLength(0);
		const [pending] = await service.database.query<{ n: string }>(
			sql`select count(*) as n from outbox where customer_id = ${web.customerId} and state = 'pending'`,
		);
		expect(Number(pending?.n)).toBe(0);
		expect(tg.calls.slice(since).some((c) => inTopic(c, web.topicId))).toBe(false);
		expect(web.socket.frames.some((f) => f.type === "rated")).toBe(false);
		// The ticket is still there to rate.
		expect((await status(web.sessionId)).canRate).toBe(true);
		expect((await rate(web.sessionId, { rating: 5, feedback: "x".repeat(2000) })).status).toBe(200);
		web.socket.close();
	});

	test("rate shares the message budget: over it, 429 RATE_LIMITED with Retry-After", async () => {
		const { sessionId } = await initSession(flow().service.url);
		const answers: number[] = [];
		for (let i = 0; i < 21; i++) answers.push((await rate(sessionId, { rating: 5 })).status);
		expect(answers.slice(0, 20).every((s) => s === 400)).toBe(true);
		const limited = await rate(sessionId, { rating: 5 });
		expect(limited.status).toBe(429);
		expect(limited.body.error.code).toBe("RATE_LIMITED");
		expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
	});
});

describe("WebSocket rate", () => {
	test("closed over the socket, rated over the socket: every tab gets `rated`; bad frames and a second rating get error frames", async () => {
		const { tg, service } = flow();
		const web = await webCustomer("The app crashes on login");
		const tab = connectSocket(service.url, `?session=${web.sessionId}`);
		await tab.next("connected");

		web.socket.send({ type: "rate", data: { rating: 5 } });
		expect((await web.socket.next("error")).data.code).toBe("NOTHING_TO_RATE");

		const since = tg.calls.length;
		web.socket.send({ type: "close", data: { resolved: true } });
		await web.socket.next((f) => f.type === "status" && f.data.status === "CLOSED");
		await tab.next((f) => f.type === "status" && f.data.status === "CLOSED");
		await nextCall(tg, since, (c) => inTopic(c, web.topicId, "The ticket is closed."));

		for (const data of [
			{ rating: 0 },
			{ rating: 6 },
			{ rating: 2.5 },
			{ rating: "5" },
			{},
			{ rating: 4, feedback: "y".repeat(2001) },
		]) {
			web.socket.send({ type: "rate", data });
			const error = await web.socket.next("error");
			expect(error.data.code, JSON.stringify(data)).toBe("INVALID_MESSAGE");
		}
		await outboxDrained(web.customerId);
		expect(await ratedRows(web.customerId)).toHaveLength(0);
		expect(web.socket.frames.some((f) => f.type === "rated")).toBe(false);

		const s2 = tg.calls.length;
		// Fields at the top level work too, as for every frame.
		web.socket.send({ type: "rate", rating: 4, feedback: "Fixed after the update" });
		expect((await web.socket.next("rated")).data).toEqual({ rating: 4 });
		expect((await tab.next("rated")).data).toEqual({ rating: 4 });
		await nextCall(tg, s2, (c) => inTopic(c, web.topicId, RATED(4)));
		await nextCall(tg, s2, (c) =>
			inTopic(c, web.topicId, "Customer feedback: Fixed after the update"),
		);

		web.socket.send({ type: "rate", data: { rating: 1 } });
		expect((await web.socket.next("error")).data.code).toBe("NOTHING_TO_RATE");
		await outboxDrained(web.customerId);
		expect((await ratedRows(web.customerId)).map((e) => e.details)).toEqual([{ rating: 4 }]);
		expect(noticesIn(web.topicId, RATED(1))).toBe(0);
		// The socket stays open after every error.
		expect(web.socket.ws.readyState).toBe(WebSocket.OPEN);
		web.socket.close();
		tab.close();
	}, 20_000);
});

describe("one rating per close across channels", () => {
	test("rated on the website: the Telegram rating buttons change nothing; rated in Telegram: the widget hears `rated` and cannot rate", async () => {
		const { tg } = flow();
		const web = await webCustomer("Linked customer question");
		const user = newUser("Mira", { username: "mira_k" });
		await linkConfirmed(web, user);

		// Close from the web: the private chat is asked for a rating too.
		const s1 = tg.calls.length;
		await closeByVisitor(web);
		const ask = await nextCall(tg, s1, (c) => inDm(c, user.id, RATE_ASK));
		const askId = (ask.result as { message_id: number }).message_id;
		expect((await rate(web.sessionId, { rating: 4 })).status).toBe(200);
		await nextCall(tg, s1, (c) => inTopic(c, web.topicId, RATED(4)));
		const s2 = tg.calls.length;
		const late = tg.pressButton(user.id, askId, "rate:1");
		const toast = await nextCall(
			tg,
			s2,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === late.id,
		);
		expect(toast.params.text).toBe(NOTHING_TO_RATE_TOAST);
		await outboxDrained(web.customerId);
		expect((await ratedRows(web.customerId)).map((e) => e.details)).toEqual([{ rating: 4 }]);
		expect(noticesIn(web.topicId, RATED(1))).toBe(0);

		// Reopen from Telegram, close again from the web, rate with the DM buttons this time.
		const s3 = tg.calls.length;
		tg.customerSends(user, "Actually, one more thing");
		await web.socket.next((f) => f.type === "status" && f.data.status === "NEW");
		await nextCall(tg, s3, (c) => inTopic(c, web.topicId, "[TG] Actually, one more thing"));
		const s4 = tg.calls.length;
		await closeByVisitor(web);
		const ask2 = await nextCall(tg, s4, (c) => inDm(c, user.id, RATE_ASK));
		const press = tg.pressButton(
			user.id,
			(ask2.result as { message_id: number }).message_id,
			"rate:2",
		);
		const thanks = await nextCall(
			tg,
			s4,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === press.id,
		);
		expect(thanks.params.text).toBe("Thank you!");
		expect((await web.socket.next(isRated(2))).data).toEqual({ rating: 2 });
		await nextCall(tg, s4, (c) => inTopic(c, web.topicId, RATED(2)));
		expect((await status(web.sessionId)).canRate).toBe(false);
		expectNothingToRate(await rate(web.sessionId, { rating: 5 }));
		expect((await ratedRows(web.customerId)).map((e) => e.details)).toEqual([
			{ rating: 4 },
			{ rating: 2 },
		]);
		web.socket.close();
	}, 25_000);
});
