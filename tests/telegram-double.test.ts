/**
 * The Bot API double itself, exercised over real HTTP the way the service talks to Telegram.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import type { TelegramMessage, TelegramUpdate } from "gramio";
import { Bot, MediaUpload } from "gramio";
import { startTelegramDouble } from "./support/telegram-double.ts";

const tg = startTelegramDouble();
afterAll(() => tg.close());
beforeEach(() => tg.reset());

const ann = { id: 7001, first_name: "Ann", last_name: "Lee", username: "annlee" };

interface Reply<T = unknown> {
	status: number;
	body: {
		ok: boolean;
		result: T;
		error_code?: number;
		description?: string;
		parameters?: { retry_after?: number };
	};
}

/** A JSON Bot API call. Bun sends no JSON content type for string bodies, so set it. */
async function api<T = unknown>(method: string, params: object = {}): Promise<Reply<T>> {
	const response = await fetch(`${tg.url}/bot${tg.token}/${method}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(params),
	});
	return { status: response.status, body: (await response.json()) as Reply<T>["body"] };
}

async function newTopic(name = "Ann Lee (@annlee)"): Promise<number> {
	const { body } = await api<{ message_thread_id: number }>("createForumTopic", {
		chat_id: tg.groupId,
		name,
	});
	return body.result.message_thread_id;
}

/** The same call with the reply body untyped, to compare whole error envelopes. */
async function raw(
	method: string,
	params: object = {},
): Promise<{ status: number; body: unknown }> {
	return api(method, params);
}

/** Confirms everything pending so a test starts from an empty queue. */
async function drainUpdates(): Promise<void> {
	const last = tg.pendingUpdates.at(-1);
	if (last) await api("getUpdates", { offset: last.update_id + 1, timeout: 0 });
}

describe("wire format", () => {
	test("getMe answers the bot over POST and GET; method names are case-insensitive", async () => {
		const posted = await api<{ id: number; is_bot: boolean; username: string }>("getMe");
		expect(posted.status).toBe(200);
		expect(posted.body.ok).toBe(true);
		expect(posted.body.result).toMatchObject({
			id: 123456,
			is_bot: true,
			first_name: "Topicdesk Test Bot",
			username: "topicdesk_test_bot",
			can_join_groups: true,
		});
		const got = await fetch(`${tg.url}/bot${tg.token}/getme`);
		expect(((await got.json()) as Reply["body"]).ok).toBe(true);
		expect(tg.callsOf("getMe")).toHaveLength(2);
	});

	test("unknown token → 401, unknown method → 404", async () => {
		const bad = await fetch(`${tg.url}/bot1:wrong/getMe`);
		expect(bad.status).toBe(401);
		expect(await bad.json()).toEqual({ ok: false, error_code: 401, description: "Unauthorized" });
		const missing = await raw("sendTelepathy");
		expect(missing.status).toBe(404);
		expect(missing.body).toEqual({ ok: false, error_code: 404, description: "Not Found" });
	});

	test("default administrator rights are stored per for_channels; a right that is not a boolean → 400", async () => {
		const rights = { can_manage_topics: true, can_pin_messages: true, can_promote_members: false };
		expect((await api("setMyDefaultAdministratorRights", { rights })).body).toEqual({
			ok: true,
			result: true,
		});
		expect((await api("getMyDefaultAdministratorRights")).body).toEqual({
			ok: true,
			result: rights,
		});
		expect((await api("getMyDefaultAdministratorRights", { for_channels: true })).body).toEqual({
			ok: true,
			result: {},
		});
		const bad = await raw("setMyDefaultAdministratorRights", {
			rights: { can_manage_topics: "yes" },
		});
		expect(bad.status).toBe(400);
		expect(bad.body).toEqual({
			ok: false,
			error_code: 400,
			description: "Bad Request: can't parse rights",
		});
	});

	test("a JSON body without a JSON content type is ignored, as by Telegram", async () => {
		tg.addCustomer(ann);
		const response = await fetch(`${tg.url}/bot${tg.token}/sendMessage`, {
			method: "POST",
			body: JSON.stringify({ chat_id: ann.id, text: "hi" }),
		});
		expect(response.status).toBe(400);
		expect(((await response.json()) as Reply["body"]).description).toBe(
			"Bad Request: message text is empty",
		);
	});

	test("urlencoded and query-string params are coerced; JSON fields are parsed", async () => {
		tg.addCustomer(ann);
		const markup = { inline_keyboard: [[{ text: "✅ Resolved", callback_data: "resolve" }]] };
		const form = new URLSearchParams({
			chat_id: String(ann.id),
			text: "[TG] hello",
			reply_markup: JSON.stringify(markup),
		});
		const response = await fetch(`${tg.url}/bot${tg.token}/sendMessage`, {
			method: "POST",
			body: form,
		});
		const body = (await response.json()) as Reply<TelegramMessage>["body"];
		expect(body.ok).toBe(true);
		expect(body.result.text).toBe("[TG] hello");
		expect(body.result.reply_markup as unknown).toEqual(markup);
		const call = tg.callsOf("sendMessage")[0];
		expect(call?.params).toEqual({ chat_id: ann.id, text: "[TG] hello", reply_markup: markup });

		const query = await fetch(
			`${tg.url}/bot${tg.token}/sendMessage?chat_id=${ann.id}&text=${encodeURIComponent("via query")}`,
		);
		expect(((await query.json()) as Reply<TelegramMessage>["body"]).result.text).toBe("via query");
	});
});

describe("forum topics and sending", () => {
	test("sendMessage into a topic stores a full topic message", async () => {
		const threadId = await newTopic();
		expect(tg.topics.get(threadId)).toMatchObject({ name: "Ann Lee (@annlee)", closed: false });
		const entities = [{ type: "bold", offset: 0, length: 4 }];
		const { status, body } = await api<TelegramMessage>("sendMessage", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			text: "Card",
			entities,
		});
		expect(status).toBe(200);
		const message = body.result;
		expect(message).toMatchObject({
			chat: { id: tg.groupId, type: "supergroup", is_forum: true },
			from: { id: tg.botUser.id, is_bot: true },
			message_thread_id: threadId,
			is_topic_message: true,
			text: "Card",
			entities,
		});
		// Real forums: a topic message that replies to nothing "replies" to the topic's creation.
		expect(message.reply_to_message?.message_id).toBe(threadId);
		expect(message.reply_to_message?.forum_topic_created?.name).toBe("Ann Lee (@annlee)");
		expect(message.message_id).toBeGreaterThan(threadId);
		expect(tg.messagesIn(tg.groupId, threadId).map((m) => m.text)).toEqual(["Card"]);
		expect(tg.topics.get(threadId)?.messages).toHaveLength(1);

		const second = await newTopic("Second");
		expect(second).not.toBe(threadId);
	});

	test("validation errors use Telegram's wording", async () => {
		const threadId = await newTopic();
		const noText = await raw("sendMessage", { chat_id: tg.groupId, message_thread_id: threadId });
		expect(noText).toEqual({
			status: 400,
			body: { ok: false, error_code: 400, description: "Bad Request: message text is empty" },
		});
		const noChat = await api("sendMessage", { chat_id: 424242, text: "x" });
		expect(noChat.body.description).toBe("Bad Request: chat not found");
		const noThread = await api("sendMessage", {
			chat_id: tg.groupId,
			message_thread_id: 999_999,
			text: "x",
		});
		expect(noThread.status).toBe(400);
		expect(noThread.body.description).toBe("Bad Request: message thread not found");
		const noReply = await api("sendMessage", {
			chat_id: tg.groupId,
			text: "x",
			reply_parameters: { message_id: 999_999 },
		});
		expect(noReply.body.description).toBe("Bad Request: message to be replied not found");
		const bigData = await api("sendMessage", {
			chat_id: tg.groupId,
			text: "x",
			reply_markup: { inline_keyboard: [[{ text: "b", callback_data: "x".repeat(65) }]] },
		});
		expect(bigData.body.description).toBe("Bad Request: BUTTON_DATA_INVALID");
		expect(tg.messagesIn(tg.groupId)).toHaveLength(0);
	});

	test("a topic deleted by an operator → message thread not found; closed → TOPIC_CLOSED", async () => {
		const closed = await newTopic("closed");
		tg.closeTopic(closed);
		const toClosed = await api("sendMessage", {
			chat_id: tg.groupId,
			message_thread_id: closed,
			text: "x",
		});
		expect(toClosed.body.description).toBe("Bad Request: TOPIC_CLOSED");
		expect(
			(await api("reopenForumTopic", { chat_id: tg.groupId, message_thread_id: closed })).body.ok,
		).toBe(true);

		const threadId = await newTopic();
		await api("sendMessage", { chat_id: tg.groupId, message_thread_id: threadId, text: "before" });
		tg.deleteTopic(threadId);
		const after = await api("sendMessage", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			text: "after",
		});
		expect(after.status).toBe(400);
		expect(after.body.description).toBe("Bad Request: message thread not found");
		expect(tg.topics.get(threadId)).toMatchObject({ deleted: true });
		expect(tg.topics.get(threadId)?.messages.map((m) => m.text)).toEqual(["before"]);
		expect(tg.messagesIn(tg.groupId, threadId)).toHaveLength(0);
		const edit = await api("editForumTopic", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			name: "x",
		});
		expect(edit.body.description).toBe("Bad Request: TOPIC_ID_INVALID");
	});

	test("editMessageText: not modified, not found, keyboard dropped unless repeated", async () => {
		tg.addCustomer(ann);
		const markup = { inline_keyboard: [[{ text: "✅ Resolved", callback_data: "resolve" }]] };
		const sent = await api<TelegramMessage>("sendMessage", {
			chat_id: ann.id,
			text: "answer",
			reply_markup: markup,
		});
		const id = sent.body.result.message_id;
		const same = await api("editMessageText", {
			chat_id: ann.id,
			message_id: id,
			text: "answer",
			reply_markup: markup,
		});
		expect(same.body.description).toStartWith("Bad Request: message is not modified");
		const missing = await api("editMessageText", { chat_id: ann.id, message_id: 9999, text: "x" });
		expect(missing.body.description).toBe("Bad Request: message to edit not found");
		const edited = await api<TelegramMessage>("editMessageText", {
			chat_id: ann.id,
			message_id: id,
			text: "answer v2",
		});
		expect(edited.body.result.text).toBe("answer v2");
		expect(edited.body.result.edit_date).toBeNumber();
		expect(tg.message(ann.id, id)?.reply_markup).toBeUndefined();
	});

	test("pin, chat info and administrators", async () => {
		const threadId = await newTopic();
		const card = await api<TelegramMessage>("sendMessage", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			text: "card",
		});
		expect(
			(
				await api("pinChatMessage", {
					chat_id: tg.groupId,
					message_id: card.body.result.message_id,
				})
			).body.ok,
		).toBe(true);
		expect(tg.pinned(tg.groupId)).toEqual([card.body.result.message_id]);
		const chat = await api<{ is_forum: boolean; pinned_message: TelegramMessage }>("getChat", {
			chat_id: tg.groupId,
		});
		expect(chat.body.result.is_forum).toBe(true);
		expect(chat.body.result.pinned_message.text).toBe("card");
		const admins = await api<{ status: string; user: { is_bot: boolean } }[]>(
			"getChatAdministrators",
			{ chat_id: tg.groupId },
		);
		expect(admins.body.result.map((a) => [a.status, a.user.is_bot])).toEqual([
			["creator", false],
			["administrator", true],
		]);
	});
});

describe("getUpdates", () => {
	test("a held long poll is answered when a customer writes", async () => {
		await drainUpdates();
		const started = Date.now();
		const poll = api<TelegramUpdate[]>("getUpdates", { timeout: 10 });
		await Bun.sleep(150);
		const sent = tg.customerSends(ann, {
			text: "/start",
			entities: [{ type: "bot_command", offset: 0, length: 6 }],
		});
		const { body } = await poll;
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		expect(Date.now() - started).toBeLessThan(2000);
		expect(body.result).toHaveLength(1);
		const update = body.result[0];
		expect(update?.message).toMatchObject({
			message_id: sent.message_id,
			chat: { id: ann.id, type: "private", first_name: "Ann" },
			from: { id: ann.id, is_bot: false, username: "annlee" },
			text: "/start",
		});
		expect(tg.messagesIn(ann.id)).toHaveLength(1);
	});

	test("timeout elapses with []; offset confirms and discards", async () => {
		await drainUpdates();
		const started = Date.now();
		const empty = await api<TelegramUpdate[]>("getUpdates", { timeout: 1 });
		expect(empty.body.result).toEqual([]);
		expect(Date.now() - started).toBeGreaterThanOrEqual(950);

		tg.customerSends(ann, "one");
		tg.customerSends(ann, "two");
		const first = await api<TelegramUpdate[]>("getUpdates", { timeout: 0 });
		expect(first.body.result.map((u) => u.message?.text)).toEqual(["one", "two"]);
		const [a, b] = first.body.result;
		expect((b?.update_id ?? 0) > (a?.update_id ?? 0)).toBe(true);
		// Unconfirmed updates come again; offset = last + 1 confirms both.
		expect((await api<TelegramUpdate[]>("getUpdates", {})).body.result).toHaveLength(2);
		const confirmed = await api<TelegramUpdate[]>("getUpdates", {
			offset: (b?.update_id ?? 0) + 1,
		});
		expect(confirmed.body.result).toEqual([]);
		expect(tg.pendingUpdates).toHaveLength(0);
	});

	test("a second poll makes Telegram answer the held one 409", async () => {
		await drainUpdates();
		const first = api("getUpdates", { timeout: 10 });
		await Bun.sleep(50);
		const second = api<TelegramUpdate[]>("getUpdates", { timeout: 1 });
		const answered = await first;
		expect(answered.status).toBe(409);
		expect(answered.body.description).toBe(
			"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
		);
		tg.customerSends(ann, "hi");
		expect((await second).body.result).toHaveLength(1);
	});

	test("getUpdates while a webhook is set → 409; the webhook receives updates", async () => {
		const received: unknown[] = [];
		const hook = Bun.serve({
			hostname: "127.0.0.1",
			port: 0,
			async fetch(req) {
				if (req.headers.get("x-telegram-bot-api-secret-token") !== "s3cret") {
					return new Response("no", { status: 401 });
				}
				received.push(await req.json());
				return new Response("ok");
			},
		});
		try {
			await api("setWebhook", { url: `http://127.0.0.1:${hook.port}/tg`, secret_token: "s3cret" });
			const conflict = await api("getUpdates", {});
			expect(conflict.status).toBe(409);
			expect(conflict.body.description).toBe(
				"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
			);
			tg.customerSends(ann, "via webhook");
			for (let i = 0; i < 50 && received.length === 0; i++) await Bun.sleep(10);
			expect(received).toHaveLength(1);
			const info = await api<{ url: string; pending_update_count: number }>("getWebhookInfo");
			expect(info.body.result.pending_update_count).toBe(0);
			await api("deleteWebhook");
			expect((await api("getUpdates", {})).status).toBe(200);
		} finally {
			await hook.stop(true);
		}
	});

	test("operators, edits and button presses arrive as proper updates", async () => {
		await drainUpdates();
		const threadId = await newTopic();
		const post = tg.operatorPosts(threadId, "hello from support");
		expect(post).toMatchObject({
			message_thread_id: threadId,
			is_topic_message: true,
			from: { id: tg.operator.id },
		});
		const anonymous = tg.operatorPosts(threadId, "anon", { anonymous: true });
		expect(anonymous.sender_chat?.id).toBe(tg.groupId);
		expect(anonymous.from?.id).toBe(1087968824);
		tg.operatorEdits(threadId, post.message_id, "hello v2");
		tg.customerSends(ann, "q");
		const card = await api<TelegramMessage>("sendMessage", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			text: "card",
			reply_markup: { inline_keyboard: [[{ text: "Close", callback_data: "status:CLOSED" }]] },
		});
		const query = tg.pressButton(tg.groupId, card.body.result.message_id, "status:CLOSED");
		const { body } = await api<TelegramUpdate[]>("getUpdates", {});
		expect(body.result.map((u) => Object.keys(u).find((k) => k !== "update_id"))).toEqual([
			"message",
			"message",
			"edited_message",
			"message",
			"callback_query",
		]);
		expect(body.result[2]?.edited_message?.text).toBe("hello v2");
		expect(body.result[4]?.callback_query?.data).toBe("status:CLOSED");
		expect(
			(await api("answerCallbackQuery", { callback_query_id: query.id, text: "Closed" })).body.ok,
		).toBe(true);
		expect(tg.callbackAnswer(query.id)).toEqual({ text: "Closed" });
		const again = await api("answerCallbackQuery", { callback_query_id: query.id });
		expect(again.body.description).toBe(
			"Bad Request: query is too old and response timeout expired or query ID is invalid",
		);
	});

	test("close() answers a held poll at once", async () => {
		const own = startTelegramDouble();
		const poll = fetch(`${own.url}/bot${own.token}/getUpdates`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ timeout: 30 }),
		}).then(
			(r) => r.status,
			() => "reset",
		);
		await Bun.sleep(50);
		const started = Date.now();
		await own.close();
		expect([200, "reset"]).toContain(await poll);
		expect(Date.now() - started).toBeLessThan(1000);
	});
});

describe("files", () => {
	test("multipart sendPhoto, getFile and download return the same bytes", async () => {
		tg.addCustomer(ann);
		const bytes = new Uint8Array(256).map((_, i) => i);
		const form = new FormData();
		form.append("chat_id", String(ann.id));
		form.append("caption", "receipt");
		form.append(
			"reply_markup",
			JSON.stringify({ inline_keyboard: [[{ text: "ok", callback_data: "ok" }]] }),
		);
		form.append("photo", new File([bytes], "receipt.jpg", { type: "image/jpeg" }));
		const response = await fetch(`${tg.url}/bot${tg.token}/sendPhoto`, {
			method: "POST",
			body: form,
		});
		const body = (await response.json()) as Reply<TelegramMessage>["body"];
		expect(body.ok).toBe(true);
		expect(body.result.caption).toBe("receipt");
		expect(body.result.reply_markup as unknown).toEqual({
			inline_keyboard: [[{ text: "ok", callback_data: "ok" }]],
		});
		const sizes = body.result.photo ?? [];
		expect(sizes.length).toBeGreaterThan(1);
		const largest = sizes.at(-1);
		expect(largest).toMatchObject({ file_size: 256, width: 800, height: 600 });
		expect(tg.callsOf("sendPhoto")[0]?.params.photo).toEqual({
			name: "receipt.jpg",
			type: "image/jpeg",
			size: 256,
		});

		const file = await api<{ file_path: string; file_size: number }>("getFile", {
			file_id: largest?.file_id,
		});
		expect(file.body.result.file_size).toBe(256);
		const download = await fetch(`${tg.url}/file/bot${tg.token}/${file.body.result.file_path}`);
		expect(download.status).toBe(200);
		expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);

		const byId = await api<TelegramMessage>("sendPhoto", {
			chat_id: ann.id,
			photo: largest?.file_id,
		});
		expect(byId.body.result.photo?.at(-1)?.file_id).toBe(largest?.file_id);
		const wrongType = await api("sendDocument", { chat_id: ann.id, document: largest?.file_id });
		expect(wrongType.body.description).toBe("Bad Request: type of file mismatch");
		expect((await api("getFile", { file_id: "nope" })).body.description).toBe(
			"Bad Request: invalid file_id",
		);
	});

	test("a customer's document can be downloaded by the service", async () => {
		const sent = tg.customerSends(ann, {
			document: { bytes: "%PDF-1.4 test", mimeType: "application/pdf", fileName: "invoice.pdf" },
			caption: "my invoice",
		});
		expect(sent.document).toMatchObject({
			file_name: "invoice.pdf",
			mime_type: "application/pdf",
			file_size: 13,
		});
		const file = await api<{ file_path: string }>("getFile", { file_id: sent.document?.file_id });
		const download = await fetch(`${tg.url}/file/bot${tg.token}/${file.body.result.file_path}`);
		expect(await download.text()).toBe("%PDF-1.4 test");
	});

	test("works with GramIO's own client (multipart upload from Bun)", async () => {
		tg.addCustomer(ann);
		const bot = new Bot(tg.token, { api: { baseURL: `${tg.url}/bot` } });
		const message = await bot.api.sendDocument({
			chat_id: ann.id,
			document: await MediaUpload.buffer(
				new TextEncoder().encode("hello").buffer as ArrayBuffer,
				"a.txt",
			),
			caption: "doc",
			reply_markup: { inline_keyboard: [[{ text: "x", callback_data: "x" }]] },
		});
		expect(message.document?.file_name).toBe("a.txt");
		expect(message.reply_markup as unknown).toEqual({
			inline_keyboard: [[{ text: "x", callback_data: "x" }]],
		});
		expect(tg.callsOf("sendDocument")[0]?.params.chat_id).toBe(ann.id);
	});
});

describe("copyMessage", () => {
	test("copies a customer's text with entities and a photo into a topic", async () => {
		const threadId = await newTopic();
		const entities = [{ type: "italic" as const, offset: 0, length: 5 }];
		const text = tg.customerSends(ann, { text: "Hello there", entities });
		const copied = await api<{ message_id: number }>("copyMessage", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			from_chat_id: ann.id,
			message_id: text.message_id,
		});
		expect(Object.keys(copied.body.result)).toEqual(["message_id"]);
		const copy = tg.message(tg.groupId, copied.body.result.message_id);
		expect(copy).toMatchObject({
			text: "Hello there",
			entities,
			message_thread_id: threadId,
			from: { is_bot: true },
		});

		const photo = tg.customerSends(ann, {
			photo: { bytes: new Uint8Array([1, 2, 3, 4]) },
			caption: "pic",
		});
		const photoCopy = await api<{ message_id: number }>("copyMessage", {
			chat_id: tg.groupId,
			message_thread_id: threadId,
			from_chat_id: ann.id,
			message_id: photo.message_id,
			caption: "[TG] pic",
		});
		const stored = tg.message(tg.groupId, photoCopy.body.result.message_id);
		expect(stored?.photo).toEqual(photo.photo);
		expect(stored?.caption).toBe("[TG] pic");

		const missing = await api("copyMessage", {
			chat_id: tg.groupId,
			from_chat_id: ann.id,
			message_id: 999,
		});
		expect(missing.body.description).toBe("Bad Request: message to copy not found");
	});
});

describe("faults", () => {
	test("flood limit answers 429 with retry_after until the window frees", async () => {
		tg.addCustomer(ann);
		tg.setFloodLimit({ chatId: ann.id, max: 2, windowMs: 300 });
		expect((await api("sendMessage", { chat_id: ann.id, text: "1" })).status).toBe(200);
		expect((await api("sendMessage", { chat_id: ann.id, text: "2" })).status).toBe(200);
		const limited = await raw("sendMessage", { chat_id: ann.id, text: "3" });
		expect(limited).toEqual({
			status: 429,
			body: {
				ok: false,
				error_code: 429,
				description: "Too Many Requests: retry after 1",
				parameters: { retry_after: 1 },
			},
		});
		// Other chats are not limited by this chat's budget.
		expect((await api("sendMessage", { chat_id: tg.groupId, text: "g" })).status).toBe(200);
		await Bun.sleep(320);
		expect((await api("sendMessage", { chat_id: ann.id, text: "3" })).status).toBe(200);
		expect(tg.callsOf("sendMessage").map((c) => c.errorCode ?? 200)).toEqual([
			200, 200, 429, 200, 200,
		]);
		expect(tg.messagesIn(ann.id).map((m) => m.text)).toEqual(["1", "2", "3"]);
	});

	test("failNext injects an error once, then the call succeeds", async () => {
		tg.addCustomer(ann);
		tg.failNext("sendMessage", 1, { error_code: 500, description: "Internal Server Error" });
		const failed = await raw("sendMessage", { chat_id: ann.id, text: "x" });
		expect(failed).toEqual({
			status: 500,
			body: { ok: false, error_code: 500, description: "Internal Server Error" },
		});
		expect(tg.messagesIn(ann.id)).toHaveLength(0);
		expect((await api("sendMessage", { chat_id: ann.id, text: "x" })).status).toBe(200);
		expect(tg.callsOf("sendMessage").map((c) => [c.ok, c.injected ?? false])).toEqual([
			[false, true],
			[true, false],
		]);

		tg.failNext("sendMessage", 1, { error_code: 429, retry_after: 3 });
		const flood = await raw("sendMessage", { chat_id: ann.id, text: "x" });
		expect(flood.body).toEqual({
			ok: false,
			error_code: 429,
			description: "Too Many Requests: retry after 3",
			parameters: { retry_after: 3 },
		});
	});

	test("drop faults reset the connection, optionally after the call took effect", async () => {
		tg.addCustomer(ann);
		tg.failNext("sendMessage", 1, { drop: true });
		await expect(api("sendMessage", { chat_id: ann.id, text: "lost" })).rejects.toThrow();
		expect(tg.messagesIn(ann.id)).toHaveLength(0);

		tg.failNext("sendMessage", 1, { drop: true, applied: true, afterMs: 100 });
		const started = Date.now();
		await expect(
			api("sendMessage", { chat_id: ann.id, text: "sent, reply lost" }),
		).rejects.toThrow();
		expect(Date.now() - started).toBeGreaterThanOrEqual(90);
		expect(tg.messagesIn(ann.id).map((m) => m.text)).toEqual(["sent, reply lost"]);
		expect(tg.callsOf("sendMessage").every((c) => c.dropped)).toBe(true);
	});

	test("a seeded fault rate fails a reproducible fraction of calls", async () => {
		tg.addCustomer(ann);
		const run = async () => {
			tg.setFaultRate({
				rate: 0.5,
				seed: 42,
				errors: [{ error_code: 502 }],
				methods: ["sendMessage"],
			});
			const codes: number[] = [];
			for (let i = 0; i < 20; i++)
				codes.push((await api("sendMessage", { chat_id: ann.id, text: `${i}` })).status);
			return codes;
		};
		const first = await run();
		expect(first).toContain(502);
		expect(first).toContain(200);
		expect(await run()).toEqual(first);
		expect((await api("getMe")).status).toBe(200);
	});

	test("a customer who blocked the bot → 403; writing again unblocks", async () => {
		const hi = tg.customerSends(ann, "hi");
		tg.blockBot(ann.id);
		const blocked = await raw("sendMessage", { chat_id: ann.id, text: "reply" });
		expect(blocked).toEqual({
			status: 403,
			body: { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" },
		});
		const copy = await api("copyMessage", {
			chat_id: ann.id,
			from_chat_id: ann.id,
			message_id: hi.message_id,
		});
		expect(copy.status).toBe(403);
		expect(
			tg.pendingUpdates.some((u) => u.my_chat_member?.new_chat_member.status === "kicked"),
		).toBe(true);
		tg.customerSends(ann, "/start");
		expect((await api("sendMessage", { chat_id: ann.id, text: "welcome back" })).status).toBe(200);
	});
});

describe("inspection", () => {
	test("waitForCall resolves with past and future calls, and explains timeouts", async () => {
		tg.addCustomer(ann);
		await api("sendMessage", { chat_id: ann.id, text: "past" });
		expect((await tg.waitForCall("sendMessage")).params.text).toBe("past");
		const since = tg.calls.length;
		const future = tg.waitForCall((c) => c.method === "sendMessage" && c.params.text === "future", {
			since,
		});
		await api("sendMessage", { chat_id: ann.id, text: "future" });
		expect((await future).ok).toBe(true);
		const error = await tg
			.waitForCall("deleteForumTopic", { timeoutMs: 50 })
			.catch((e: Error) => e);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toContain(
			"waitForCall(deleteForumTopic) timed out after 50 ms",
		);
		expect((error as Error).message).toContain("sendMessage");
	});
});
