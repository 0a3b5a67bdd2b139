/**
 * Shared setup for the Telegram flows: a database, the Bot API double and the service, plus small
 * helpers to find what the bot did for one customer.
 */
import { afterAll, beforeAll } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "./db.ts";
import { startTestService } from "./service.ts";
import { type ApiCall, startTelegramDouble, type TelegramDouble } from "./telegram-double.ts";

export interface TelegramFlow {
	db: TestDatabase;
	tg: TelegramDouble;
	service: RunningService;
	stop(): Promise<void>;
}

export async function startTelegramFlow(
	configFile?: Record<string, unknown>,
	env?: Record<string, string>,
): Promise<TelegramFlow> {
	const db = await freshDatabase();
	const tg = startTelegramDouble();
	const service = await startTestService({ db, double: tg, configFile, env });
	const flow: TelegramFlow = {
		db,
		tg,
		service,
		async stop() {
			// The current service: a test may have restarted it.
			await flow.service.stop();
			await tg.close();
			await db.drop();
		},
	};
	return flow;
}

let nextUserId = 700_000;

/** A Telegram user nobody has seen yet. */
export function newUser(
	firstName = "Ann",
	extra: { last_name?: string; username?: string; language_code?: string } = {},
) {
	nextUserId += 1;
	return { id: nextUserId, first_name: firstName, ...extra };
}

/** The next call matching, after `since`, with a readable failure. */
export function nextCall(
	tg: TelegramDouble,
	since: number,
	match: (call: ApiCall) => boolean,
	timeoutMs = 10_000,
) {
	return tg.waitForCall(match, { since, timeoutMs });
}

/**
 * Whether a message the bot sent shows `text` (its text, or its caption): alone, or under the
 * card, as a new ticket's first message is sent (the card, a blank line, the message).
 */
export function showsText(call: ApiCall, text: string): boolean {
	const shown = call.params.text ?? call.params.caption;
	if (typeof shown !== "string") return false;
	return shown === text || (shown.startsWith("📋") && shown.endsWith(`\n\n${text}`));
}

/**
 * The customer's part of a message the bot sent into a topic: all of it, or under the card (a new
 * ticket's first message) what stands below the card's blank line.
 */
export function shownText(call: ApiCall): string {
	const text = String(call.params.text ?? call.params.caption ?? "");
	if (!text.startsWith("📋")) return text;
	const below = text.indexOf("\n\n");
	return below < 0 ? "" : text.slice(below + 2);
}

/**
 * Waits until this message (a card) is pinned in the support group: by default a card is pinned
 * once the group has nothing else to send, a moment after it is posted.
 */
export async function pinnedCard(tg: TelegramDouble, messageId: number): Promise<void> {
	await eventually(() => tg.pinned(tg.groupId).includes(messageId));
}

/** Texts the bot sent to a private chat, in order. */
export function dmTexts(tg: TelegramDouble, chatId: number): string[] {
	return tg.calls
		.filter((c) => c.ok && c.method === "sendMessage" && Number(c.params.chat_id) === chatId)
		.map((c) => String(c.params.text));
}

/** The customer's topic id, once the bot has made one. */
export async function topicIdOf(
	service: RunningService,
	telegramUserId: number,
	timeoutMs = 10_000,
): Promise<number> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const [row] = await service.database.query<{ topic_id: number | null }>(
			sql`select topic_id from customers where telegram_user_id = ${telegramUserId}`,
		);
		if (row?.topic_id != null) return Number(row.topic_id);
		if (Date.now() > deadline) throw new Error(`no topic for Telegram user ${telegramUserId}`);
		await Bun.sleep(50);
	}
}

export async function eventsOf(service: RunningService, telegramUserId: number): Promise<string[]> {
	const rows = await service.database.query<{ kind: string }>(
		sql`select e.kind from ticket_events e join customers c on c.id = e.customer_id
			where c.telegram_user_id = ${telegramUserId} order by e.id`,
	);
	return rows.map((row) => row.kind);
}

/** Polls `check` until it returns a value that is not undefined/false. */
export async function eventually<T>(
	check: () => Promise<T | undefined | false> | T | undefined | false,
	timeoutMs = 10_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined && value !== false) return value as T;
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await Bun.sleep(50);
	}
}

/**
 * Starts a flow before the tests of the current scope (file or describe) and stops it after;
 * returns a getter, as the flow exists only once `beforeAll` ran.
 */
export function useTelegramFlow(
	configFile?: Record<string, unknown>,
	env?: Record<string, string>,
): () => TelegramFlow {
	let flow: TelegramFlow | undefined;
	beforeAll(async () => {
		flow = await startTelegramFlow(configFile, env);
	}, 20_000);
	afterAll(async () => {
		await flow?.stop();
	}, 20_000);
	return () => {
		if (!flow) throw new Error("the Telegram flow is not started");
		return flow;
	};
}
