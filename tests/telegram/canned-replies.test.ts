/**
 * Canned replies (`/r`), end to end through the Bot API double and the web API: the config
 * file's preload, saving by reply (again: replaced), per-locale variants, `{name}`, listing,
 * deleting, sending as an operator reply in every way (private chat with the Resolved button,
 * web socket, status, SLA, assignment), the General topic, a closed ticket's topic, a restart
 * that keeps what operators saved, and bad input answered for operators only.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { startTestService } from "../support/service.ts";
import { waitForOutboxIdle } from "../support/settle.ts";
import { telegramCustomers } from "../support/telegram-customers.ts";
import type { ApiCall } from "../support/telegram-double.ts";
import {
	eventually,
	newUser,
	nextCall,
	topicIdOf,
	useTelegramFlow,
} from "../support/telegram-flow.ts";
import { api, type Envelope } from "../support/web-client.ts";

const BORIS = { id: 5_000_202, first_name: "Boris", username: "boris_ops" };
const PRELOAD = {
	greet: { en: "Hello {name}! How can we help?", ru: "Здравствуйте, {name}! Чем помочь?" },
	bye: { en: "Thank you, goodbye." },
};
const CONFIG = { outbox: { groupWindow: "1s" }, canned: PRELOAD };
const flow = useTelegramFlow(CONFIG);
const people = telegramCustomers(flow);
const { inTopic } = people;

/** A customer who wrote to the bot in Telegram, in English or Russian; topic and card exist. */
async function customer(name: string, languageCode: "en" | "ru" = "en") {
	if (languageCode === "en") return people.telegramCustomer(newUser(name), `${name} asks`);
	const { tg, service } = flow();
	const user = newUser(name, { language_code: "ru" });
	const since = tg.calls.length;
	tg.customerSends(user, `${name} спрашивает`);
	const topicId = await topicIdOf(service, user.id);
	// The bot's answers to a first message are done: the phone offer comes last.
	await nextCall(tg, since, (c) => people.inDm(c, user.id, (t) => t.includes("номер телефона")));
	const customerId = await people.customerOfTelegram(user.id);
	return { user, topicId, customerId };
}

/** The bot's next line in a topic (or, with `null`, the General topic) matching. */
function botLine(topicId: number | null, match: (text: string) => boolean, since: number) {
	const { tg } = flow();
	return nextCall(tg, since, (c) => {
		const here =
			topicId === null
				? c.method === "sendMessage" &&
					Number(c.params.chat_id) === tg.groupId &&
					c.params.message_thread_id === undefined
				: inTopic(c, topicId);
		return here && match(String(c.params.text));
	});
}

/** An operator command in a topic (or General) and the bot's answer to it there. */
async function command(
	topicId: number | null,
	text: string,
	answer: (text: string) => boolean,
	options: { replyToMessageId?: number; from?: typeof BORIS } = {},
) {
	const { tg } = flow();
	const since = tg.calls.length;
	if (topicId === null) tg.postInGroupGeneral(text, options);
	else tg.operatorPosts(topicId, text, options);
	return String((await botLine(topicId, answer, since)).params.text);
}

/** What the bot sent to a customer's private chat after `since` (text and markup). */
const dmOf = (userId: number, text: string) => (c: ApiCall) =>
	c.method === "sendMessage" &&
	c.ok &&
	Number(c.params.chat_id) === userId &&
	c.params.text === text;

async function supportMessages(customerId: string) {
	return flow().service.database.query<{ text: string; operator_id: number | string | null }>(
		sql`select text, operator_id from messages where customer_id = ${customerId}
			and author = 'support' order by seq`,
	);
}

async function statusOf(customerId: string) {
	const [row] = await flow().service.database.query<{ status: string; assignee_id: unknown }>(
		sql`select status, assignee_id from customers where id = ${customerId}`,
	);
	return {
		status: row?.status,
		assignee: row?.assignee_id == null ? null : Number(row.assignee_id),
	};
}

describe("sending", () => {
	test("a preloaded reply in the customer's locale, {name} filled in, is an operator reply in every way", async () => {
		const { tg, service } = flow();
		const c = await customer("Пётр", "ru");
		const since = tg.calls.length;
		const echo = await command(c.topicId, "/r greet", (t) => t.startsWith("📨"), { from: BORIS });
		expect(echo).toBe("📨 Canned reply “greet” sent:\nЗдравствуйте, Пётр! Чем помочь?");
		const dm = await nextCall(tg, since, dmOf(c.user.id, "Здравствуйте, Пётр! Чем помочь?"));
		expect(JSON.stringify(dm.params.reply_markup)).toContain('"callback_data":"resolve"');
		// Delivered: NEW → IN_PROGRESS, like any answer; Boris answered first, so it is his.
		await botLine(c.topicId, (t) => t === "Status changed: 🛠 In progress", since);
		expect(await statusOf(c.customerId)).toEqual({ status: "IN_PROGRESS", assignee: BORIS.id });
		expect(await supportMessages(c.customerId)).toEqual([
			{ text: "Здравствуйте, Пётр! Чем помочь?", operator_id: expect.anything() },
		]);
		expect(Number((await supportMessages(c.customerId))[0]?.operator_id)).toBe(BORIS.id);
		// The answer stopped the SLA clock.
		const timers = await service.database.query<{ kind: string }>(
			sql`select kind from timers where customer_id = ${c.customerId} and kind = 'sla'`,
		);
		expect(timers).toEqual([]);
		// The command itself never reached the customer.
		expect(
			tg.calls
				.slice(since)
				.some((x) => Number(x.params.chat_id) === c.user.id && x.method === "copyMessage"),
		).toBe(false);
	}, 20_000);

	test("an English customer gets the English variant; a locale without one falls back to the default", async () => {
		const { tg } = flow();
		const en = await customer("Emma", "en");
		let since = tg.calls.length;
		await command(en.topicId, "/r greet", (t) => t.startsWith("📨"));
		await nextCall(tg, since, dmOf(en.user.id, "Hello Emma! How can we help?"));
		const ru = await customer("Фёдор", "ru");
		since = tg.calls.length;
		await command(ru.topicId, "/r bye", (t) => t.startsWith("📨"));
		await nextCall(tg, since, dmOf(ru.user.id, "Thank you, goodbye."));
	}, 20_000);

	test("a web visitor receives it on the socket and in the history; no name known reads naturally", async () => {
		const web = await people.webCustomer("a web question");
		const echo = await command(web.topicId, "/r greet", (t) => t.startsWith("📨"));
		expect(echo).toBe("📨 Canned reply “greet” sent:\nHello! How can we help?");
		const frame = await web.socket.next((f) => f.type === "message" && f.data.from === "support");
		expect(frame.data).toMatchObject({ from: "support", text: "Hello! How can we help?" });
		await web.socket.next((f) => f.type === "status" && f.data.status === "IN_PROGRESS");
		const history = await api<Envelope<{ messages: { from: string; text: string }[] }>>(
			flow().service.url,
			"GET",
			"/api/chat/history",
			{ session: web.sessionId },
		);
		expect(history.body.data.messages.map((m) => [m.from, m.text])).toContainEqual([
			"support",
			"Hello! How can we help?",
		]);
		web.socket.close();
	}, 20_000);

	test("in a closed ticket's topic it is sent, and the ticket stays closed as after any answer", async () => {
		const { tg } = flow();
		const c = await people.telegramCustomer(newUser("Clara"), "Clara asks");
		const query = tg.pressButton(tg.groupId, c.cardId, "status:CLOSED");
		await nextCall(
			tg,
			0,
			(x) => x.method === "answerCallbackQuery" && x.params.callback_query_id === query.id,
		);
		await eventually(async () => (await statusOf(c.customerId)).status === "CLOSED");
		const since = tg.calls.length;
		await command(c.topicId, "/r bye", (t) => t.startsWith("📨"));
		await nextCall(tg, since, dmOf(c.user.id, "Thank you, goodbye."));
		await waitForOutboxIdle(flow().service);
		expect((await statusOf(c.customerId)).status).toBe("CLOSED");
		expect((await supportMessages(c.customerId)).map((m) => m.text)).toEqual([
			"Thank you, goodbye.",
		]);
	}, 20_000);
});

describe("saving, listing, deleting", () => {
	test("/r save by reply, a locale variant, saving again replaces, /r lists, /r del deletes", async () => {
		const { tg } = flow();
		const c = await customer("Hugo");
		const ruCustomer = await customer("Галя", "ru");
		const en = tg.operatorPosts(c.topicId, "// We open at 9, {name}.");
		expect(
			await command(c.topicId, "/r save hours", (t) => t.startsWith("Saved"), {
				replyToMessageId: en.message_id,
			}),
		).toBe("Saved canned reply “hours” (en).");
		const ru = tg.operatorPosts(c.topicId, "// Мы открываемся в 9, {name}.");
		expect(
			await command(c.topicId, "/r save hours ru", (t) => t.startsWith("Saved"), {
				replyToMessageId: ru.message_id,
			}),
		).toBe("Saved canned reply “hours” (ru).");
		const list = await command(c.topicId, "/r", (t) => t.startsWith("Canned replies:"));
		expect(list).toBe(
			"Canned replies: bye (en), greet (en, ru), hours (en, ru)\nSend one in a customer's topic with /r <name>.",
		);
		let since = tg.calls.length;
		await command(ruCustomer.topicId, "/r hours", (t) => t.startsWith("📨"));
		await nextCall(tg, since, dmOf(ruCustomer.user.id, "Мы открываемся в 9, Галя."));
		// Saved again: replaced.
		const better = tg.operatorPosts(c.topicId, "// We open at 9 sharp, {name}.");
		await command(c.topicId, "/r save hours", (t) => t.startsWith("Saved"), {
			replyToMessageId: better.message_id,
		});
		since = tg.calls.length;
		await command(c.topicId, "/r hours", (t) => t.startsWith("📨"));
		await nextCall(tg, since, dmOf(c.user.id, "We open at 9 sharp, Hugo."));
		const rows = await flow().service.database.query<{
			locale: string;
			text: string;
			source: string;
		}>(sql`select locale, text, source from canned_replies where name = 'hours' order by locale`);
		expect(rows).toEqual([
			{ locale: "en", text: "We open at 9 sharp, {name}.", source: "operator" },
			{ locale: "ru", text: "Мы открываемся в 9, {name}.", source: "operator" },
		]);
		expect(await command(c.topicId, "/r del hours", (t) => t.startsWith("Deleted"))).toBe(
			"Deleted canned reply “hours”.",
		);
		const unknown = await command(c.topicId, "/r hours", (t) => t.startsWith("There is no"));
		expect(unknown).toBe(
			"There is no canned reply “hours”.\nCanned replies: bye (en), greet (en, ru)\nSend one in a customer's topic with /r <name>.",
		);
	}, 20_000);

	test("in the General topic /r lists, saves and deletes, but has nobody to send to", async () => {
		const { tg } = flow();
		expect(await command(null, "/r", (t) => t.startsWith("Canned replies:"))).toContain(
			"greet (en, ru)",
		);
		const source = tg.postInGroupGeneral("Thanks for waiting!");
		expect(
			await command(null, "/r save wait", (t) => t.startsWith("Saved"), {
				replyToMessageId: source.message_id,
			}),
		).toBe("Saved canned reply “wait” (en).");
		expect(await command(null, "/r wait", (t) => t.startsWith("Canned replies are sent"))).toBe(
			"Canned replies are sent in a customer's topic. Here you can list (/r), save (/r save <name>, as a reply) and delete (/r del <name>) them.",
		);
		expect(await command(null, "/r del wait", (t) => t.startsWith("Deleted"))).toBe(
			"Deleted canned reply “wait”.",
		);
		const [row] = await flow().service.database.query<{ n: number | string }>(
			sql`select count(*) as n from canned_replies where name = 'wait'`,
		);
		expect(Number(row?.n)).toBe(0);
	}, 20_000);

	test("bad input is answered in the topic; nothing is saved and nothing reaches the customer", async () => {
		const { tg, service } = flow();
		const c = await customer("Ivo");
		const before = await service.database.query<{ name: string; locale: string; text: string }>(
			sql`select name, locale, text from canned_replies order by name, locale`,
		);
		const note = tg.operatorPosts(c.topicId, "// some text");
		// The customer's photo without a caption, as copied into the topic: no text to save.
		const sent = tg.calls.length;
		tg.customerSends(c.user, { photo: new Uint8Array([0xff, 0xd8, 0xff]) });
		const copied = await nextCall(
			tg,
			sent,
			(x) => x.method === "copyMessage" && x.ok && Number(x.params.chat_id) === tg.groupId,
		);
		const photo = copied.result as { message_id: number };
		const cases: [string, number | undefined, string][] = [
			["/r Bad!", undefined, "“Bad!” cannot be a name"],
			["/r save", note.message_id, "Canned replies: /r <name> sends one"],
			["/r save save", note.message_id, "“save” cannot be a name"],
			["/r save hello", undefined, "Reply to the message whose text you want to save"],
			["/r save hello xx", note.message_id, "Unknown locale “xx”: use one of en, ru."],
			["/r save hello", photo.message_id, "That message has no text to save."],
			["/r nosuch", undefined, "There is no canned reply “nosuch”."],
			["/r del nosuch", undefined, "There is no canned reply “nosuch”."],
			["/r greet now please", undefined, "Canned replies: /r <name> sends one"],
			[`/r ${"a".repeat(33)}`, undefined, "cannot be a name"],
		];
		for (const [text, replyTo, answer] of cases)
			await command(
				c.topicId,
				text,
				(t) => t.includes(answer),
				replyTo ? { replyToMessageId: replyTo } : {},
			);
		// An unknown command is answered with the list, never relayed either.
		await command(c.topicId, "/frobnicate", (t) => t.startsWith("Commands in a customer topic:"));
		await waitForOutboxIdle(service);
		expect(
			await service.database.query(
				sql`select name, locale, text from canned_replies order by name, locale`,
			),
		).toEqual(before);
		expect(await supportMessages(c.customerId)).toEqual([]);
		expect(
			tg.calls.some((x) => Number(x.params.chat_id) === c.user.id && x.method === "copyMessage"),
		).toBe(false);
	}, 20_000);
});

describe("the config file's preload", () => {
	test("a restart keeps what operators saved and brings the file's texts back", async () => {
		const { tg, db } = flow();
		const c = await customer("Jonas");
		const mine = tg.operatorPosts(c.topicId, "// Hi {name}, Boris here.");
		await command(c.topicId, "/r save greet", (t) => t.startsWith("Saved"), {
			replyToMessageId: mine.message_id,
		});
		await command(c.topicId, "/r del bye", (t) => t.startsWith("Deleted"));
		await flow().service.stop();
		flow().service = await startTestService({ db, double: tg, configFile: CONFIG });
		const rows = await flow().service.database.query<{
			name: string;
			locale: string;
			text: string;
			source: string;
		}>(
			sql`select name, locale, text, source from canned_replies where name in ('greet', 'bye') order by name, locale`,
		);
		expect(rows).toEqual([
			{ name: "bye", locale: "en", text: "Thank you, goodbye.", source: "config" },
			{ name: "greet", locale: "en", text: "Hi {name}, Boris here.", source: "operator" },
			{ name: "greet", locale: "ru", text: PRELOAD.greet.ru, source: "config" },
		]);
	}, 30_000);

	test("the file's replies are checked: names, locales, texts; assignment.auto too", () => {
		const errorsOf = (file: unknown) => {
			const result = loadConfig({ CONFIG_FILE: "config.json" }, () => JSON.stringify(file));
			return result.ok ? [] : result.errors;
		};
		expect(errorsOf({ canned: { "Bad Name": { en: "x" } } })).toEqual([
			"CONFIG_FILE canned.Bad Name: unknown key (names are a-z, 0-9, _ and -, 1 to 32 characters)",
		]);
		expect(errorsOf({ canned: { ok: { de: "Hallo" } } })).toEqual([
			"CONFIG_FILE canned.ok.de: unknown key (allowed: en, ru)",
		]);
		expect(errorsOf({ canned: { ok: { en: "" } } })).toEqual([
			'CONFIG_FILE canned.ok.en: must be a text of 1 to 4096 characters (got "")',
		]);
		expect(errorsOf({ assignment: { auto: "always" } })).toEqual([
			'CONFIG_FILE assignment.auto: must be "first-reply" or "off" (got "always")',
		]);
		expect(errorsOf({ canned: { ok: { en: "Hi" } }, assignment: { auto: "off" } })).toEqual([]);
	});
});
