/**
 * Erasure: `/erase` in a customer's topic asks for confirmation; a press from outside
 * the support group changes nothing; the operator's press deletes the customer's sessions,
 * messages, files and identity, closes the ticket and their sockets, leaves a notice in the
 * topic, and logs an event without personal data; the same person writing again starts fresh.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { en } from "../../src/i18n/en.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import {
	type ApiCall,
	startTelegramDouble,
	type TelegramDouble,
} from "../support/telegram-double.ts";
import { newUser, nextCall, topicIdOf } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
const logged: Record<string, unknown>[] = [];
const rawLog: string[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	const loaded = loadConfig(testEnv({ db, double: tg }));
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	const log = createLogger({
		level: "info",
		json: true,
		write: (line) => {
			rawLog.push(line);
			logged.push(JSON.parse(line));
		},
	});
	service = await startService(loaded.config, { pglite: db.pglite, log });
}, 20_000);
afterAll(async () => {
	await service.stop();
	await tg.close();
	await db.drop();
}, 20_000);

const PNG = Uint8Array.from(
	atob(
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
	),
	(c) => c.charCodeAt(0),
);

async function rows(query: ReturnType<typeof sql>): Promise<number> {
	const [row] = await service.database.query<{ n: number }>(query);
	return Number(row?.n ?? 0);
}

/** Sends /erase in the topic; returns the bot's confirmation message id. */
async function askErase(topicId: number): Promise<number> {
	const since = tg.calls.length;
	tg.operatorPosts(topicId, "/erase");
	const confirm = await nextCall(
		tg,
		since,
		(c) =>
			c.ok &&
			c.method === "sendMessage" &&
			Number(c.params.message_thread_id) === topicId &&
			JSON.stringify(c.params.reply_markup ?? "").includes("erase:yes:"),
	);
	return (confirm.result as { message_id: number }).message_id;
}

function buttonData(call: ApiCall, which: "yes" | "no"): string {
	const markup = (
		typeof call.params.reply_markup === "string"
			? JSON.parse(call.params.reply_markup)
			: call.params.reply_markup
	) as { inline_keyboard: { callback_data: string }[][] };
	const data = markup.inline_keyboard
		.flat()
		.find((b) => b.callback_data.startsWith(`erase:${which}:`))?.callback_data;
	if (!data) throw new Error("no erase button");
	return data;
}

describe("/erase", () => {
	test("a web customer: refused from outside the group, then erased by an operator", async () => {
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		const sent = await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "my address is 1 Secret Lane" },
		});
		expect(sent.status).toBe(201);
		const form = new FormData();
		form.append("file", new File([PNG], "passport.png", { type: "image/png" }));
		const upload = await fetch(`${service.url}/api/chat/upload`, {
			method: "POST",
			headers: { "x-session-id": sessionId },
			body: form,
		});
		expect(upload.status).toBe(201);
		const [customer] = await service.database.query<{ id: string }>(
			sql`select customer_id as id from web_sessions where id = ${sessionId}`,
		);
		const customerId = customer?.id as string;
		const topicId = await (async () => {
			for (;;) {
				const [row] = await service.database.query<{ topic_id: number | null }>(
					sql`select topic_id from customers where id = ${customerId}`,
				);
				if (row?.topic_id) return Number(row.topic_id);
				await Bun.sleep(50);
			}
		})();

		const confirmId = await askErase(topicId);
		const confirmCall = tg.calls.find(
			(c) =>
				c.method === "sendMessage" &&
				(c.result as { message_id?: number })?.message_id === confirmId,
		) as ApiCall;
		const yes = buttonData(confirmCall, "yes");

		// Someone outside the support group presses "Erase all data": refused, nothing changes.
		const outsider = newUser("Mallory");
		let since = tg.calls.length;
		const refusedPress = tg.pressButton(tg.groupId, confirmId, yes, outsider);
		const refusal = await nextCall(
			tg,
			since,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === refusedPress.id,
		);
		expect(refusal.params.text).toBe(
			"Only members of the support group can erase a customer's data.",
		);
		expect(
			await rows(sql`select count(*)::int as n from messages where customer_id = ${customerId}`),
		).toBe(2);
		expect(
			(await api(service.url, "GET", "/api/chat/history", { session: sessionId })).status,
		).toBe(200);

		// Cancel changes nothing either.
		since = tg.calls.length;
		tg.pressButton(tg.groupId, confirmId, buttonData(confirmCall, "no"));
		await nextCall(
			tg,
			since,
			(c) =>
				c.method === "editMessageText" &&
				c.params.text === "Erasure cancelled: nothing was deleted.",
		);
		expect(
			await rows(
				sql`select count(*)::int as n from web_sessions where customer_id = ${customerId}`,
			),
		).toBe(1);

		// The operator confirms: everything of the customer goes, the socket closes, the topic says so.
		const again = await askErase(topicId);
		since = tg.calls.length;
		tg.pressButton(tg.groupId, again, yes);
		const closed = await socket.closed;
		expect(closed.code).toBe(4001);
		const notice = await nextCall(
			tg,
			since,
			(c) =>
				c.ok &&
				c.method === "sendMessage" &&
				Number(c.params.message_thread_id) === topicId &&
				String(c.params.text).startsWith("🗑 This customer's data was erased"),
		);
		expect(notice.ok).toBe(true);
		await nextCall(
			tg,
			since,
			(c) => c.method === "editForumTopic" && c.params.name === "Erased customer",
		);
		for (const table of ["messages", "media", "web_sessions", "link_tokens", "timers"])
			expect(
				await rows(
					sql.raw(`select count(*)::int as n from ${table} where customer_id = '${customerId}'`),
				),
			).toBe(0);
		const [tombstone] = await service.database.query<Record<string, unknown>>(
			sql`select status, display_name, telegram_user_id, phone, source_url from customers where id = ${customerId}`,
		);
		expect(tombstone).toEqual({
			status: "CLOSED",
			display_name: "Erased customer",
			telegram_user_id: null,
			phone: null,
			source_url: null,
		});
		const history = await api<Envelope>(service.url, "GET", "/api/chat/history", {
			session: sessionId,
		});
		expect(history.status).toBe(401);
		// The log says what happened, with the opaque id and counts only.
		const event = logged.find((line) => line.event === "customer.erased");
		expect(event).toMatchObject({ customerId, messages: 2, files: 1, sessions: 1 });
		expect(rawLog.join("\n")).not.toContain("Secret Lane");
		expect(rawLog.join("\n")).not.toContain("passport");
	}, 30_000);

	test("a Telegram customer writing again after erasure starts fresh", async () => {
		const user = newUser("Erin", { username: "erin_tg" });
		tg.customerSends(user, "please forget me");
		const oldTopic = await topicIdOf(service, user.id);
		const [before] = await service.database.query<{ id: string }>(
			sql`select id from customers where telegram_user_id = ${user.id}`,
		);
		const confirmId = await askErase(oldTopic);
		const since = tg.calls.length;
		tg.pressButton(tg.groupId, confirmId, `erase:yes:${before?.id}`);
		await nextCall(
			tg,
			since,
			(c) => c.method === "editMessageText" && c.params.text === en.eraseDone,
		);
		expect(
			await rows(sql`select count(*)::int as n from customers where telegram_user_id = ${user.id}`),
		).toBe(0);

		tg.customerSends(user, "hello again");
		const newTopic = await topicIdOf(service, user.id);
		expect(newTopic).not.toBe(oldTopic);
		const [after] = await service.database.query<{ id: string }>(
			sql`select id from customers where telegram_user_id = ${user.id}`,
		);
		expect(after?.id).not.toBe(before?.id);
		const texts = await service.database.query<{ text: string }>(
			sql`select text from messages where customer_id = ${after?.id} order by seq`,
		);
		expect(texts.map((row) => row.text)).toEqual(["hello again"]);
	}, 30_000);

	test("a forged erase button pressed outside the support group does nothing", async () => {
		const user = newUser("Forge");
		const hi = tg.customerSends(user, "hi");
		await topicIdOf(service, user.id);
		const [target] = await service.database.query<{ id: string }>(
			sql`select id from customers where telegram_user_id = ${user.id}`,
		);
		// The customer presses a forged erase button in their own private chat.
		const since = tg.calls.length;
		const forged = tg.pressButton(user.id, hi.message_id, `erase:yes:${target?.id}`, user);
		await nextCall(
			tg,
			since,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === forged.id,
		);
		expect(
			await rows(sql`select count(*)::int as n from messages where customer_id = ${target?.id}`),
		).toBe(1);
	}, 30_000);
});
