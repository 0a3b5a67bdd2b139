/**
 * A message's `seq` is its number in the visitor's own conversation, so it tells a visitor nothing
 * about the desk's volume: a brand-new visitor's first message is 1 in the send answer, the frames,
 * history and `lastSeq`, however many messages other customers wrote. Every writer numbers (web,
 * operator, system, set inserts), concurrent writers of one customer get distinct numbers in the
 * order written, erasure never hands a number out again, and a merge numbers the merged history in
 * the order it was written, so the retargeted visitor's catch-up stays exact.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "../support/telegram-customers.ts";
import { newUser, nextCall, showsText, useTelegramFlow } from "../support/telegram-flow.ts";
import {
	api,
	connectSocket,
	type Envelope,
	type Frame,
	initSession,
	type SocketClient,
} from "../support/web-client.ts";

interface WireMessage {
	id: string;
	seq: number;
	text: string;
	from: string;
}
type Page = Envelope<{ messages: WireMessage[]; hasMore: boolean }>;

const flow = useTelegramFlow({ rateLimits: { message: 100_000 } });
const h = telegramCustomers(flow);

async function history(sessionId: string, query = "") {
	const page = await api<Page>(flow().service.url, "GET", `/api/chat/history${query}`, {
		session: sessionId,
	});
	expect(page.status).toBe(200);
	return page.body.data;
}

/** The customer's rows: number in the conversation and desk-wide seq, in the desk-wide order. */
async function numbersOf(customerId: string) {
	const rows = await flow().service.database.query<{
		text: string;
		customer_seq: number | string;
		seq: number | string;
	}>(
		sql`select text, customer_seq, seq from messages where customer_id = ${customerId}
			order by seq`,
	);
	return rows.map((r) => ({ text: r.text, n: Number(r.customer_seq), seq: Number(r.seq) }));
}

/** The operator's reply in a topic, once the web customer's socket has it. */
async function operatorReply(topicId: number, text: string, socket: SocketClient): Promise<Frame> {
	flow().tg.operatorPosts(topicId, text);
	return socket.next((f) => f.type === "message" && f.data.text === text);
}

describe("seq is the number of a message in its own conversation", () => {
	test("a brand-new visitor's first message is seq 1 after thousands by other customers", async () => {
		const { service } = flow();
		// Other customers' traffic: a burst through the web door and a set insert of 2,000 rows.
		const other = await initSession(service.url);
		for (let i = 1; i <= 5; i++) {
			const sent = await api<Envelope<{ seq: number }>>(service.url, "POST", "/api/chat/message", {
				session: other.sessionId,
				body: { text: `other ${i}` },
			});
			expect(sent.body.data.seq).toBe(i);
		}
		const busy = await h.customerOfSession(other.sessionId);
		await service.database.query(
			sql`insert into messages (customer_id, author, channel, text)
				select ${busy}, 'user', 'web', 'bulk ' || g from generate_series(1, 2000) g`,
		);
		const busyRows = await numbersOf(busy);
		expect(busyRows.map((r) => r.n)).toEqual(busyRows.map((_, i) => i + 1));

		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		expect((await socket.next("connected")).data.lastSeq).toBe(0);
		const sent = await api<Envelope<{ messageId: string; seq: number }>>(
			service.url,
			"POST",
			"/api/chat/message",
			{ session: sessionId, body: { text: "my first question" } },
		);
		expect(sent.status).toBe(201);
		expect(sent.body.data.seq).toBe(1);
		const echo = await socket.next("message");
		expect({ text: echo.data.text, seq: echo.data.seq }).toEqual({
			text: "my first question",
			seq: 1,
		});
		socket.send({ type: "message", text: "and a second one" });
		expect((await socket.next("message")).data.seq).toBe(2);

		// The desk-wide number of the same row would have told the visitor about 2,000 others.
		const customerId = await h.customerOfSession(sessionId);
		const [first] = await numbersOf(customerId);
		expect(first?.seq).toBeGreaterThan(2000);

		// The operator's answer continues the visitor's numbering, in the frame and in history.
		const copy = await nextCall(
			flow().tg,
			0,
			(c) => c.method === "sendMessage" && showsText(c, "[WEB] my first question"),
		);
		const topicId = Number(copy.params.message_thread_id);
		const reply = await operatorReply(topicId, "operator answers", socket);
		expect(reply.data.seq).toBe(3);
		const page = await history(sessionId);
		expect(page.messages.map((m) => [m.seq, m.text])).toEqual([
			[3, "operator answers"],
			[2, "and a second one"],
			[1, "my first question"],
		]);
		const again = connectSocket(service.url, `?session=${sessionId}`);
		expect((await again.next("connected")).data.lastSeq).toBe(3);
		socket.close();
		again.close();
	}, 30_000);

	test("one customer's messages written at once by the visitor and the operator get 1..n in the order written", async () => {
		const { service } = flow();
		const web = await h.webCustomer("question before the rush");
		const posts = Array.from({ length: 12 }, (_, i) =>
			api<Envelope<{ seq: number }>>(service.url, "POST", "/api/chat/message", {
				session: web.sessionId,
				body: { text: `rush ${i}` },
			}),
		);
		for (let i = 0; i < 6; i++) flow().tg.operatorPosts(web.topicId, `answer ${i}`);
		const answers = (await Promise.all(posts)).map((r) => r.body.data.seq);
		expect(new Set(answers).size).toBe(answers.length);
		for (let i = 0; i < 6; i++)
			await web.socket.next((f) => f.type === "message" && f.data.text === `answer ${i}`);
		const rows = await numbersOf(web.customerId);
		expect(rows).toHaveLength(19);
		// Numbered 1..19 without a gap, and in the order the desk wrote them.
		expect(rows.map((r) => r.n)).toEqual(rows.map((_, i) => i + 1));
		// What the web sees is what was stored: every answer's seq is its row's number.
		expect(answers.every((n) => n >= 2 && n <= 19)).toBe(true);
		web.socket.close();
	}, 30_000);

	test("erasure never hands a number out again: the next message of the erased customer goes on", async () => {
		const { tg } = flow();
		const user = newUser("Eraser");
		const customer = await h.telegramCustomer(user, "forget me soon");
		const reply = tg.operatorPosts(customer.topicId, "noted");
		await nextCall(
			tg,
			0,
			(c) => c.method === "copyMessage" && Number(c.params.message_id) === reply.message_id,
		);
		const before = await numbersOf(customer.customerId);
		const last = Math.max(...before.map((r) => r.n));
		expect(last).toBeGreaterThanOrEqual(2);

		let since = tg.calls.length;
		tg.operatorPosts(customer.topicId, "/erase");
		const confirm = await nextCall(
			tg,
			since,
			(c) =>
				c.ok &&
				c.method === "sendMessage" &&
				Number(c.params.message_thread_id) === customer.topicId &&
				JSON.stringify(c.params.reply_markup ?? "").includes("erase:yes:"),
		);
		since = tg.calls.length;
		tg.pressButton(
			tg.groupId,
			(confirm.result as { message_id: number }).message_id,
			`erase:yes:${customer.customerId}`,
		);
		await nextCall(
			tg,
			since,
			(c) => c.method === "editMessageText" && String(c.params.text).startsWith("Erased for good"),
			20_000,
		);
		expect(await numbersOf(customer.customerId)).toEqual([]);

		// The tombstone keeps its topic; an operator's note there is stored after the erased ones.
		tg.operatorPosts(customer.topicId, "after the erasure");
		const after = await eventuallyRows(customer.customerId, 1);
		expect(after.map((r) => [r.text, r.n])).toEqual([["after the erasure", last + 1]]);
	}, 30_000);
});

async function eventuallyRows(customerId: string, count: number) {
	for (let i = 0; i < 200; i++) {
		const rows = await numbersOf(customerId);
		if (rows.length >= count) return rows;
		await Bun.sleep(50);
	}
	throw new Error("the message was not stored in time");
}

describe("a merge numbers the merged history in the order it was written", () => {
	test("the survivor's history is numbered in written order above both sides' numbers, and the retargeted visitor catches up exactly", async () => {
		const { tg, service } = flow();
		const user = newUser("Mia", { username: "mia_q" });
		// The Telegram side first: its topic is older, so it survives the merge.
		const older = await h.telegramCustomer(user, "telegram 1");
		const web = await h.webCustomer("web 1");
		const since = tg.calls.length;
		tg.customerSends(user, "telegram 2");
		await nextCall(
			tg,
			since,
			(c) => c.method === "copyMessage" && Number(c.params.from_chat_id) === user.id,
		);
		web.socket.send({ type: "message", text: "web 2" });
		await web.socket.next((f) => f.type === "message" && f.data.text === "web 2");
		const webReply = await operatorReply(web.topicId, "web answer", web.socket);
		expect(webReply.data.seq).toBe(3);
		// What the visitor has seen, by server id.
		const seen = (await history(web.sessionId)).messages;
		expect(seen.map((m) => [m.seq, m.text])).toEqual([
			[3, "web answer"],
			[2, "web 2"],
			[1, "web 1"],
		]);
		const numbersBefore = [
			...(await numbersOf(older.customerId)),
			...(await numbersOf(web.customerId)),
		];
		const highestBefore = Math.max(...numbersBefore.map((r) => r.n));

		await h.linkConfirmed(web, user);
		// The retargeted socket hears the survivor's messages; the visitor then goes offline.
		await operatorReply(older.topicId, "survivor answer", web.socket);
		web.socket.close();
		tg.customerSends(user, "telegram 3");
		const merged = await eventuallyRows(older.customerId, numbersBefore.length + 2);

		// One conversation, numbered in the order written, above every number either side gave.
		const written = [
			"telegram 1",
			"web 1",
			"telegram 2",
			"web 2",
			"web answer",
			"survivor answer",
			"telegram 3",
		];
		const ours = merged.filter((r) => written.includes(r.text));
		expect(ours.map((r) => r.text)).toEqual(written);
		const numbers = merged.map((r) => r.n);
		expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
		expect(new Set(numbers).size).toBe(numbers.length);
		expect(Math.min(...numbers)).toBeGreaterThan(highestBefore);

		// The visitor comes back: catching up after the last message it saw gives exactly what was
		// written after it, in order, numbered above what it holds.
		const newest = seen[0] as WireMessage;
		const caughtUp = await history(web.sessionId, `?after=${newest.id}&limit=100`);
		const afterNewest = merged.slice(merged.findIndex((r) => r.text === "web answer") + 1);
		expect(caughtUp.messages.map((m) => m.text)).toEqual(afterNewest.map((r) => r.text));
		expect(caughtUp.messages.map((m) => m.seq)).toEqual(afterNewest.map((r) => r.n));
		expect(caughtUp.hasMore).toBe(false);
		// Paging back before the oldest message it saw gives the Telegram side's earlier message.
		const oldest = seen.at(-1) as WireMessage;
		const earlier = await history(web.sessionId, `?before=${oldest.id}`);
		expect(earlier.messages.map((m) => m.text)).toContain("telegram 1");

		// The next message continues the merged numbering, and the counter left over is gone.
		const sent = await api<Envelope<{ seq: number }>>(service.url, "POST", "/api/chat/message", {
			session: web.sessionId,
			body: { text: "web 3" },
		});
		expect(sent.body.data.seq).toBe(Math.max(...numbers) + 1);
		const counters = await service.database.query<{ customer_id: string }>(
			sql`select customer_id from message_counters
				where customer_id in (${older.customerId}, ${web.customerId})`,
		);
		expect(counters.map((r) => r.customer_id)).toEqual([older.customerId]);
	}, 40_000);
});
