/**
 * Telegram Bot API double for end-to-end tests.
 *
 * A real HTTP server on 127.0.0.1 that speaks the Bot API wire format, so the service under
 * test talks to it exactly as to Telegram through `TELEGRAM_API_URL=<double.url>`:
 * `POST|GET /bot<token>/<method>` (JSON, urlencoded, multipart or query string), replies
 * `{ok:true,result}` / `{ok:false,error_code,description,parameters?}` with the HTTP status
 * equal to the code, and file downloads at `GET /file/bot<token>/<file_path>`.
 *
 * It models one bot, one forum supergroup with topics and a private chat per customer, long
 * polls `getUpdates`, injects faults and flood limits, and lets a test act as a customer or an
 * operator and inspect every call.
 *
 * @example
 * const tg = startTelegramDouble();
 * process.env.TELEGRAM_API_URL = tg.url;
 * tg.customerSends({ id: 42, first_name: "Ann" }, "Hello");
 * const copy = await tg.waitForCall("copyMessage");
 * await tg.close();
 */
import type { Server } from "bun";
import type {
	TelegramCallbackQuery,
	TelegramChatMember,
	TelegramChatMemberAdministrator,
	TelegramMessage,
	TelegramUpdate,
	TelegramUser,
} from "gramio";
import { BotApiError, ERR } from "./telegram-double-errors.ts";
import {
	type Fault,
	FaultPlan,
	type FaultRate,
	type FloodLimit,
	injectedError,
	isDrop,
} from "./telegram-double-faults.ts";
import type { FileKind, FileSpec, StoredFile } from "./telegram-double-files.ts";
import { chatMethods } from "./telegram-double-methods-chats.ts";
import { messageMethods } from "./telegram-double-methods-messages.ts";
import { administrator, type CallbackRecord, DoubleModel } from "./telegram-double-model.ts";
import { intParam, type Params, parseRequest } from "./telegram-double-params.ts";
import {
	type GroupPostOptions,
	People,
	type Person,
	type PersonContent,
} from "./telegram-double-people.ts";
import type { MethodContext, MethodHandler } from "./telegram-double-send.ts";
import { type NewUpdate, UpdateQueue } from "./telegram-double-updates.ts";

export type {
	DropFault,
	Fault,
	FaultRate,
	FloodLimit,
	InjectedError,
} from "./telegram-double-faults.ts";
export type { FileKind, FileSpec, StoredFile } from "./telegram-double-files.ts";
export { GROUP_ANONYMOUS_BOT, TOPIC_ICON_COLORS } from "./telegram-double-model.ts";
export type {
	FileSource,
	GroupPostOptions,
	Person,
	PersonContent,
} from "./telegram-double-people.ts";
export type { MethodContext, MethodHandler } from "./telegram-double-send.ts";
export { BotApiError };

export const DEFAULT_TOKEN = "123456:TEST-token";
export const DEFAULT_GROUP_ID = -1001234567890;

/** The default human operator: creator of the group and author of `operatorPosts`. */
export const DEFAULT_OPERATOR: TelegramUser = {
	id: 5000001,
	is_bot: false,
	first_name: "Olga",
	last_name: "Operator",
	username: "olga_operator",
	language_code: "en",
};

export interface TelegramDoubleOptions {
	token?: string;
	groupId?: number;
	groupTitle?: string;
	/** Overrides of the bot user (id defaults to the number before ':' in the token). */
	bot?: Partial<TelegramUser>;
	operator?: TelegramUser;
	/** getChatAdministrators of the group; default: the operator as creator + the bot as admin. */
	admins?: TelegramChatMember[];
	/**
	 * Topic messages that reply to nothing carry `reply_to_message` = the topic's creation
	 * service message, as in real forums. Default true.
	 */
	implicitTopicReplies?: boolean;
	/** Pause before a failed webhook delivery is retried. Default 100 ms. */
	webhookRetryMs?: number;
}

/** One Bot API call as the double saw and answered it. */
export interface ApiCall {
	/** Canonical method name (Telegram method names are case-insensitive). */
	method: string;
	/** Parsed parameters; uploaded files appear as `{name, type, size}`. */
	params: Params;
	/** Arrival time (ms since epoch). */
	at: number;
	durationMs: number;
	ok: boolean;
	errorCode?: number;
	description?: string;
	retryAfter?: number;
	/** A snapshot of the `result` sent back. */
	result?: unknown;
	/** The error came from failNext/setFaultRate, not from the simulated Telegram. */
	injected?: boolean;
	/** The connection was reset without a reply (drop fault). */
	dropped?: boolean;
}

/** A topic as a test sees it. */
export interface TopicView {
	threadId: number;
	name: string;
	iconColor: number;
	closed: boolean;
	deleted: boolean;
	/** Content messages in the topic (for a deleted topic: those it had when deleted). */
	messages: TelegramMessage[];
}

export interface WaitOptions {
	/** Default 10 s. */
	timeoutMs?: number;
	/** Only consider calls at or after this index of `calls` (e.g. `tg.calls.length`). */
	since?: number;
}

type CallPredicate = (call: ApiCall) => boolean;

interface Waiter {
	predicate: CallPredicate;
	resolve: (call: ApiCall) => void;
	reject: (error: Error) => void;
	timer: ReturnType<typeof setTimeout>;
}

const BOT_PATH = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/;
const FILE_PATH = /^\/file\/bot([^/]+)\/(.+)$/;

function json(body: unknown, status = 200): Response {
	return Response.json(body, { status });
}

/**
 * A reply that never comes: the connection is reset. `controller.error(undefined)` resets the
 * socket without Bun logging an error for it (an Error value would be printed).
 */
function resetConnection(): Response {
	return new Response(
		new ReadableStream({
			start(controller) {
				controller.error(undefined);
			},
		}),
	);
}

function truncate(text: string, max: number): string {
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export class TelegramDouble {
	/** Root URL, e.g. `http://127.0.0.1:PORT` (without `/bot`). */
	readonly url: string;
	readonly token: string;
	readonly groupId: number;
	readonly botUser: TelegramUser;
	readonly operator: TelegramUser;
	/** Every call in order of completion. */
	readonly calls: ApiCall[] = [];
	/** Every file download, in order. */
	readonly downloads: { path: string; at: number; ok: boolean }[] = [];
	/** The simulated world; for assertions the helpers below do not cover. */
	readonly model: DoubleModel;
	private readonly updates: UpdateQueue;
	private readonly faults = new FaultPlan();
	private readonly people: People;
	private readonly methods = new Map<string, { name: string; handler: MethodHandler }>();
	private readonly waiters = new Set<Waiter>();
	private readonly lifetime = new AbortController();
	private readonly server: Server<undefined>;

	constructor(options: TelegramDoubleOptions = {}) {
		this.token = options.token ?? DEFAULT_TOKEN;
		this.groupId = options.groupId ?? DEFAULT_GROUP_ID;
		const botId = Number(this.token.split(":")[0]) || 123456;
		this.botUser = {
			id: botId,
			is_bot: true,
			first_name: "Topicdesk Test Bot",
			username: "topicdesk_test_bot",
			...options.bot,
		};
		this.operator = options.operator ?? DEFAULT_OPERATOR;
		this.model = new DoubleModel({
			bot: this.botUser,
			groupId: this.groupId,
			groupTitle: options.groupTitle ?? "Topicdesk Support",
			operator: this.operator,
			implicitTopicReplies: options.implicitTopicReplies ?? true,
			...(options.admins ? { admins: options.admins } : {}),
		});
		this.updates = new UpdateQueue(options.webhookRetryMs ?? 100);
		this.people = new People(this.model, this.updates);
		for (const [name, handler] of Object.entries({ ...chatMethods, ...messageMethods })) {
			this.setMethod(name, handler);
		}
		this.server = Bun.serve({
			hostname: "127.0.0.1",
			port: 0,
			// Long polls are held for `timeout` seconds; Bun's default idle timeout (10 s) would
			// cut them.
			idleTimeout: 0,
			fetch: (req) => this.handle(req),
		});
		this.url = `http://127.0.0.1:${this.server.port}`;
	}

	// ---------------------------------------------------------------- HTTP

	private async handle(req: Request): Promise<Response> {
		const url = new URL(req.url);
		const file = FILE_PATH.exec(url.pathname);
		if (file) return this.download(file[1] ?? "", decodeURIComponent(file[2] ?? ""));
		const match = BOT_PATH.exec(url.pathname);
		if (!match) return json(ERR.notFound().toBody(), 404);
		const token = match[1] ?? "";
		const requested = match[2] ?? "";
		const entry = this.methods.get(requested.toLowerCase());
		const at = Date.now();
		const method = entry?.name ?? requested;
		let params: Params = {};
		let answered: BotApiError | { result: unknown } | { dropped: true };
		let injected = false;
		try {
			if (token !== this.token) throw ERR.unauthorized();
			if (!entry) throw ERR.notFound();
			const parsed = await parseRequest(req, url);
			params = parsed.params;
			const ctx: MethodContext = {
				params,
				files: parsed.files,
				model: this.model,
				updates: this.updates,
				signal: req.signal,
			};
			const fault = this.faults.take(method);
			if (fault && isDrop(fault)) {
				// The call takes effect, only the reply is lost; its own errors are lost too.
				if (fault.applied) await (async () => entry.handler(ctx))().catch(() => undefined);
				await this.sleep(fault.afterMs ?? 0);
				answered = { dropped: true };
			} else if (fault) {
				injected = true;
				throw injectedError(fault);
			} else {
				this.faults.admit(method, intParam(params, "chat_id"), at);
				answered = { result: await entry.handler(ctx) };
			}
		} catch (error) {
			if (error instanceof BotApiError) {
				answered = error;
			} else {
				console.error(`[telegram-double] ${method} crashed:`, error);
				answered = new BotApiError(500, "Internal Server Error");
			}
		}
		return this.answer({ method, params, at, injected }, answered);
	}

	private answer(
		call: { method: string; params: Params; at: number; injected: boolean },
		answered: BotApiError | { result: unknown } | { dropped: true },
	): Response {
		const base = { method: call.method, params: call.params, at: call.at };
		const durationMs = Date.now() - call.at;
		if (answered instanceof BotApiError) {
			const retryAfter = answered.parameters?.retry_after;
			this.record({
				...base,
				durationMs,
				ok: false,
				errorCode: answered.code,
				description: answered.description,
				...(retryAfter !== undefined ? { retryAfter } : {}),
				...(call.injected ? { injected: true } : {}),
			});
			return json(answered.toBody(), answered.code);
		}
		if ("dropped" in answered) {
			this.record({ ...base, durationMs, ok: false, injected: true, dropped: true });
			return resetConnection();
		}
		const body = { ok: true, result: answered.result };
		this.record({ ...base, durationMs, ok: true, result: structuredClone(answered.result) });
		return json(body);
	}

	private download(token: string, path: string): Response {
		const file = token === this.token ? this.model.files.getByPath(path) : undefined;
		this.downloads.push({ path, at: Date.now(), ok: file !== undefined });
		if (!file) return json(ERR.notFound().toBody(), 404);
		return new Response(file.bytes, {
			headers: { "content-type": file.mimeType ?? "application/octet-stream" },
		});
	}

	private sleep(ms: number): Promise<void> {
		if (ms <= 0 || this.lifetime.signal.aborted) return Promise.resolve();
		const signal = this.lifetime.signal;
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				signal.removeEventListener("abort", done);
				resolve();
			};
			const timer = setTimeout(done, ms);
			signal.addEventListener("abort", done, { once: true });
		});
	}

	// ---------------------------------------------------------------- recording

	private record(call: ApiCall): void {
		this.calls.push(call);
		for (const waiter of this.waiters) {
			if (!waiter.predicate(call)) continue;
			clearTimeout(waiter.timer);
			this.waiters.delete(waiter);
			waiter.resolve(call);
		}
	}

	/** Recorded calls of one method (case-insensitive), in order. */
	callsOf(method: string): ApiCall[] {
		const wanted = method.toLowerCase();
		return this.calls.filter((c) => c.method.toLowerCase() === wanted);
	}

	/**
	 * The first call (already recorded at or after `since`, or still to come) matching a method
	 * name or predicate. Rejects after `timeoutMs` with the recent calls in the message.
	 */
	waitForCall(match: string | CallPredicate, options: WaitOptions = {}): Promise<ApiCall> {
		const timeoutMs = options.timeoutMs ?? 10_000;
		const wanted = typeof match === "string" ? match.toLowerCase() : undefined;
		const predicate: CallPredicate =
			typeof match === "string" ? (c) => c.method.toLowerCase() === wanted : match;
		const found = this.calls.slice(options.since ?? 0).find(predicate);
		if (found) return Promise.resolve(found);
		const label = typeof match === "string" ? match : match.name || "predicate";
		return new Promise((resolve, reject) => {
			const waiter: Waiter = {
				predicate,
				resolve,
				reject,
				timer: setTimeout(() => {
					this.waiters.delete(waiter);
					reject(
						new Error(
							`waitForCall(${label}) timed out after ${timeoutMs} ms; last calls:\n${this.describeCalls(15)}`,
						),
					);
				}, timeoutMs),
			};
			this.waiters.add(waiter);
		});
	}

	/** The last `count` calls, one line each, for failure messages. */
	describeCalls(count = 15): string {
		const recent = this.calls.slice(-count);
		if (recent.length === 0) return "  (no calls)";
		const first = this.calls.length - recent.length;
		return recent
			.map((c, i) => {
				const outcome = c.ok ? "ok" : c.dropped ? "dropped" : `${c.errorCode} ${c.description}`;
				return `  #${first + i} ${c.method} → ${truncate(outcome, 80)} ${truncate(JSON.stringify(c.params), 160)}`;
			})
			.join("\n");
	}

	// ---------------------------------------------------------------- inspection

	/** Content messages of a chat in id order; with `threadId` only that topic's. */
	messagesIn(
		chatId: number,
		threadId?: number,
		options: { includeService?: boolean } = {},
	): TelegramMessage[] {
		return this.model.messagesIn(chatId, threadId, options);
	}

	/** The current version of one message. */
	message(chatId: number, messageId: number): TelegramMessage | undefined {
		return this.model.findMessage(chatId, messageId);
	}

	/** Topics by thread id, including deleted ones. */
	get topics(): Map<number, TopicView> {
		const views = new Map<number, TopicView>();
		for (const topic of this.model.topics.values()) {
			views.set(topic.threadId, {
				threadId: topic.threadId,
				name: topic.name,
				iconColor: topic.iconColor,
				closed: topic.closed,
				deleted: topic.deleted,
				messages: topic.deleted
					? topic.archived.filter((m) => m.forum_topic_created === undefined)
					: this.model.messagesIn(this.model.forumOf(topic).chat.id, topic.threadId),
			});
		}
		return views;
	}

	/** Pinned message ids of a chat, oldest pin first. */
	pinned(chatId: number): number[] {
		return [...(this.model.chats.get(chatId)?.pinned ?? [])];
	}

	/** The answerCallbackQuery parameters for a query, once answered. */
	callbackAnswer(queryId: string): CallbackRecord["answer"] {
		return this.model.callbacks.get(queryId)?.answer;
	}

	/** Updates pushed but not yet confirmed by an `offset`. */
	get pendingUpdates(): readonly TelegramUpdate[] {
		return this.updates.pendingUpdates;
	}

	/** The id of the last update pushed (0 before the first): what a test waits to see confirmed. */
	get lastUpdateId(): number {
		return this.updates.lastId;
	}

	/**
	 * Resolves once every update up to `updateId` (default: the last one pushed) is confirmed: the
	 * service asked getUpdates for an `offset` past it (it confirms only after the update's effects
	 * committed) or its webhook answered 2xx. The observable end of "the update was processed", for
	 * asserting that it had no effect. Rejects after `timeoutMs` (default 10 s).
	 */
	async waitForUpdateConfirmed(
		updateId = this.lastUpdateId,
		options: { timeoutMs?: number } = {},
	): Promise<void> {
		const deadline = Date.now() + (options.timeoutMs ?? 10_000);
		const confirmed = () =>
			!this.updates.pendingUpdates.some((u) => u.update_id <= updateId) &&
			this.updates.isConfirmed(updateId);
		while (!confirmed()) {
			if (Date.now() > deadline)
				throw new Error(
					`update ${updateId} not confirmed in time; pending: ${this.updates.pendingUpdates.map((u) => u.update_id).join(", ")}; last calls:\n${this.describeCalls(10)}`,
				);
			await Bun.sleep(10);
		}
	}

	/** Bytes of a stored file (by file_id). */
	fileBytes(fileId: string): Uint8Array | undefined {
		return this.model.files.get(fileId)?.bytes;
	}

	// ---------------------------------------------------------------- acting as people

	/** A customer writes to the bot in their private chat; pushes a `message` update. */
	customerSends(
		user: Person,
		content: PersonContent,
		options: { replyToMessageId?: number } = {},
	): TelegramMessage {
		return this.people.customerSends(user, content, options);
	}

	/** A customer edits their message; pushes `edited_message`. */
	customerEdits(user: Person, messageId: number, newText: string): TelegramMessage {
		return this.people.customerEdits(user, messageId, newText);
	}

	/** A human (default: the operator) posts in a topic; pushes a `message` update. */
	operatorPosts(
		threadId: number,
		content: PersonContent,
		options?: GroupPostOptions,
	): TelegramMessage {
		return this.people.operatorPosts(threadId, content, options);
	}

	/** A human edits their group message; pushes `edited_message`. */
	operatorEdits(threadId: number, messageId: number, newText: string): TelegramMessage {
		return this.people.operatorEdits(threadId, messageId, newText);
	}

	/** A human posts in the group's General topic (no thread). */
	postInGroupGeneral(content: PersonContent, options?: GroupPostOptions): TelegramMessage {
		return this.people.postInGroupGeneral(content, options);
	}

	/** Presses an inline button; pushes `callback_query`. `from` defaults to the chat's user or the operator. */
	pressButton(
		chatId: number,
		messageId: number,
		data: string,
		from?: Person,
	): TelegramCallbackQuery {
		return this.people.pressButton(chatId, messageId, data, from);
	}

	/** Pushes any update (the id is assigned). */
	pushUpdate(update: NewUpdate): TelegramUpdate {
		return this.updates.push(update);
	}

	/**
	 * An operator adds the bot to a chat (the support group unless named): pushes the
	 * `my_chat_member` update Telegram sends, the bot joining with `status`.
	 */
	botAdded(
		status: "member" | "administrator" = "administrator",
		chat: object = this.model.group,
	): TelegramUpdate {
		return this.pushUpdate({
			my_chat_member: {
				chat,
				from: this.operator,
				date: Math.floor(Date.now() / 1000),
				old_chat_member: { status: "left", user: this.botUser },
				new_chat_member: { status, user: this.botUser },
			},
		} as never);
	}

	// ---------------------------------------------------------------- several forum groups

	/**
	 * Another forum supergroup the bot administers, with the same admins as the main one: for a
	 * desk with several support groups. Its topics are in `topics` too (thread ids never collide
	 * across forums); `topicsIn` tells them apart. Returns the group's id.
	 */
	addForum(id: number, title = `Support ${this.model.forums.size + 2}`): number {
		this.model.addForum(id, title);
		return id;
	}

	/** Thread ids of the live topics of one forum (the main group's: `groupId`). */
	topicsIn(chatId: number): number[] {
		return [...this.model.topics.values()]
			.filter((topic) => !topic.deleted && this.model.forumOf(topic).chat.id === chatId)
			.map((topic) => topic.threadId);
	}

	/**
	 * An admin removes the bot from a group added with `addForum` (or adds it back): while removed,
	 * every call about that chat answers 403 "bot was kicked", as Telegram does; pushes the
	 * `my_chat_member` update Telegram sends, unless `silently` (an update the bot never got).
	 */
	setBotInForum(chatId: number, present: boolean, options: { silently?: boolean } = {}): void {
		const state = this.model.chats.get(chatId);
		if (!state || !this.model.forums.has(chatId)) throw new Error(`no added forum ${chatId}`);
		if (!state.kicked === present) return;
		state.kicked = !present;
		if (options.silently) return;
		const member = { status: "administrator", user: this.botUser } as const;
		const gone = { status: "left", user: this.botUser } as const;
		this.pushUpdate({
			my_chat_member: {
				chat: state.chat,
				from: this.operator,
				date: Math.floor(Date.now() / 1000),
				old_chat_member: present ? gone : member,
				new_chat_member: present ? member : gone,
			},
		} as never);
	}

	/** Makes a customer known (as after /start) without sending a message. */
	addCustomer(user: Person): void {
		this.model.privateChat({ ...user, is_bot: user.is_bot ?? false });
	}

	/** The customer blocks the bot: sends to them answer 403; pushes `my_chat_member`. */
	blockBot(userId: number): void {
		this.people.setBlocked(userId, true);
	}

	unblockBot(userId: number): void {
		this.people.setBlocked(userId, false);
	}

	/** A topic created by a human in the app (no Bot API call); returns its thread id. */
	createTopic(name: string, iconColor?: number): number {
		return this.model.createTopic(name, iconColor ?? 7322096, undefined, this.operator).threadId;
	}

	/** An operator deletes a topic: its messages go, sends to it get "message thread not found". */
	deleteTopic(threadId: number): void {
		this.model.deleteTopic(threadId);
	}

	/** An operator closes a topic: sends get TOPIC_CLOSED; pushes the service message. */
	closeTopic(threadId: number): void {
		this.people.setTopicClosed(threadId, true);
	}

	reopenTopic(threadId: number): void {
		this.people.setTopicClosed(threadId, false);
	}

	/** Stores a file so it can be attached to a person's message or sent by file_id. */
	registerFile(kind: FileKind, spec: FileSpec): StoredFile {
		return this.model.files.register(kind, spec);
	}

	/** Replaces the group's administrators (getChatAdministrators/getChatMember). */
	setAdministrators(members: TelegramChatMember[]): void {
		this.model.admins = structuredClone(members);
	}

	/** Turns Topics on or off in the support group (getChat's `is_forum`). */
	setForum(enabled: boolean): void {
		(this.model.group as { is_forum?: boolean }).is_forum = enabled;
	}

	/**
	 * The bot's place in the group: a plain `member` (dropped from the administrators), or an
	 * administrator with some rights changed, e.g. `{ can_manage_topics: false }`.
	 */
	setBotRights(rights: "member" | Partial<TelegramChatMemberAdministrator>): void {
		const others = this.model.admins.filter((m) => m.user.id !== this.botUser.id);
		this.model.admins =
			rights === "member" ? others : [...others, { ...administrator(this.botUser), ...rights }];
	}

	// ---------------------------------------------------------------- faults

	/** The next `count` calls of `method` (`"*"` = any) fail with `fault`. */
	failNext(method: string, count: number, fault: Fault): void {
		this.faults.failNext(this.methods.get(method.toLowerCase())?.name ?? method, count, fault);
	}

	/** Faults queued by failNext that no call has taken yet (0: every one is under way or done). */
	queuedFaults(): number {
		return this.faults.queuedCount();
	}

	/** Random faults on a fraction of calls; `null` turns them off. */
	setFaultRate(rate: FaultRate | null): void {
		this.faults.setFaultRate(rate);
	}

	/** At most `max` chat-writing calls per `windowMs` (per chat, or overall without chatId). */
	setFloodLimit(limit: FloodLimit): void {
		this.faults.setFloodLimit(limit);
	}

	clearFloodLimits(): void {
		this.faults.clearFloodLimits();
	}

	// ---------------------------------------------------------------- lifecycle

	/** The current handler of a method, so a test can wrap it and put the wrapper in with setMethod. */
	handlerOf(name: string): MethodHandler | undefined {
		return this.methods.get(name.toLowerCase())?.handler;
	}

	/** Adds or replaces a Bot API method (for behaviours a test needs that the double lacks). */
	setMethod(name: string, handler: MethodHandler): void {
		this.methods.set(name.toLowerCase(), { name, handler });
	}

	/**
	 * Forgets calls, chats, topics, files, updates, webhook and faults. Id counters (messages,
	 * updates, files) keep increasing so a running service never sees an id reused; a held
	 * getUpdates stays held.
	 */
	reset(): void {
		this.calls.length = 0;
		this.downloads.length = 0;
		this.model.reset();
		this.updates.reset();
		this.faults.reset();
	}

	/** Answers held polls with `[]`, resets open connections and stops listening. */
	async close(): Promise<void> {
		this.lifetime.abort();
		this.updates.close();
		for (const waiter of this.waiters) {
			clearTimeout(waiter.timer);
			waiter.reject(new Error("the Telegram double was closed"));
		}
		this.waiters.clear();
		await this.server.stop(true);
	}
}

/** Starts a Bot API double on 127.0.0.1 with a free port. */
export function startTelegramDouble(options: TelegramDoubleOptions = {}): TelegramDouble {
	return new TelegramDouble(options);
}
