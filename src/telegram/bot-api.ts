/**
 * The Bot API client every call goes through (bot-transport.ts puts each on the wire): each call
 * carries its own deadline and ends at shutdown, and the flood budgets and metrics wrap every
 * call. `api` offers every Bot API method by name, with GramIO's types.
 */
import { type Bot, TelegramError } from "gramio";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { chatKeyOf, type FloodBudget } from "../outbox/flood-budget.ts";
import { type BotCall, createBotTransport } from "./bot-transport.ts";
import { createCallDeadlines } from "./call-deadlines.ts";

export type BotApi = Bot["api"];

export interface BotClient {
	api: BotApi;
	/** Numeric id of the bot, from the token (`<id>:<secret>`), so no getMe is needed to know it. */
	botId: number;
	/** Aborts every call in flight (shutdown). */
	abort(): void;
	/** The bare call, without budgets, metrics or deadline: the poller's long poll has its own. */
	call: BotCall;
}

export function createBotClient(options: {
	token: string;
	apiRoot: string;
	callTimeoutMs?: number;
	/** Counts every call against the flood budgets and pauses a chat on 429. */
	budget?: { budget: FloodBudget; groups: () => readonly number[] };
	/** Counts each call by method and result, and each 429's pause. */
	metrics?: Metrics;
	/** At debug level, one line per call with its method and result (never its parameters). */
	log?: Logger;
}): BotClient {
	const shutdown = new AbortController();
	const deadlines = createCallDeadlines(options.callTimeoutMs ?? 30_000);
	const call = createBotTransport(options.apiRoot, options.token);
	const send: Transport = async (method, params) => {
		const deadline = deadlines.start();
		try {
			return await call(method, params as object | undefined, deadline.signal);
		} finally {
			deadline.done();
		}
	};
	const layers: Layer[] = [];
	const { metrics, log } = options;
	if (metrics || log)
		layers.push(async (context, next) => {
			const started = performance.now();
			const report = (result: string, retryAfterMs?: number) => {
				metrics?.telegramCall(context.method, result);
				if (retryAfterMs !== undefined) metrics?.floodPause(retryAfterMs / 1000);
				log?.debug("telegram call", {
					event: "telegram.call",
					method: context.method,
					result,
					ms: Math.round(performance.now() - started),
				});
			};
			try {
				const result = await next();
				report("ok");
				return result;
			} catch (error) {
				const failure = classifyFailure(error);
				report(
					error instanceof TelegramError ? String(error.code) : "network",
					failure.kind === "flood" ? failure.retryAfterMs : undefined,
				);
				throw error;
			}
		});
	const metered = options.budget;
	if (metered)
		layers.push(async (context, next) => {
			const chat = chatKeyOf(context.params, metered.groups());
			const paused = chat ? metered.budget.pausedFor(chat) : 0;
			// Chat actions ("typing…") are ephemeral: they never spend a chat's message budget and
			// are dropped rather than delayed when the chat is paused (bot-profile.ts checks the
			// budget before asking).
			if (context.method === "sendChatAction") {
				if (paused > 0) throw new Error("chat paused by a 429: chat action dropped");
				return next();
			}
			// A call already under way when its chat got a 429 waits out the pause: nothing is
			// sent into a paused chat. Shutdown ends the wait (the outbox then puts the item back).
			if (paused > 0) await abortableSleep(paused, shutdown.signal);
			// Every call into a group waits for its turn in that group's window: an item makes
			// several calls (topic, card, pin, message), so gating claims alone would burst. The
			// check and the record below run without an await between them, so concurrent calls
			// never take the same free slot.
			if (chat?.startsWith("group"))
				while (metered.budget.available(chat) < 1)
					await abortableSleep(Math.max(5, metered.budget.waitMs(chat)), shutdown.signal);
			const recordedAt = chat ? metered.budget.record(chat) : 0;
			try {
				return await next();
			} catch (error) {
				const failure = classifyFailure(error);
				if (chat && failure.kind === "flood") metered.budget.pause(chat, failure.retryAfterMs);
				// An outage's failed calls do not spend the window the drain afterwards needs.
				else if (chat && neverReachedLimiter(error)) metered.budget.refund(chat, recordedAt);
				throw error;
			}
		});
	// The first layer is the outermost: metrics see the time a call waited for its budget.
	const run = layers.reduceRight<Transport>(
		(next, layer) => (method, params) => layer({ method, params }, () => next(method, params)),
		send,
	);
	// Every property of `api` is the Bot API method of that name, made on first use. `then` is
	// none, so that `api` is never taken for a promise.
	const methods = new Map<string, (params?: unknown) => Promise<unknown>>();
	const api = new Proxy({} as BotApi, {
		get: (_target, method) => {
			if (typeof method !== "string" || method === "then") return undefined;
			let bound = methods.get(method);
			if (!bound) {
				bound = (params?: unknown) => run(method, params);
				methods.set(method, bound);
			}
			return bound;
		},
	});
	return {
		api,
		botId: Number(options.token.split(":")[0]),
		call,
		abort: () => {
			shutdown.abort();
			deadlines.abortAll(shutdown.signal.reason);
		},
	};
}

type Transport = (method: string, params: unknown) => Promise<unknown>;
type Layer = (
	context: { method: string; params: unknown },
	next: () => Promise<unknown>,
) => Promise<unknown>;
/** Sleeps `ms`, or rejects as soon as `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
	if (signal.aborted) return Promise.reject(signal.reason);
	return new Promise((resolve, reject) => {
		const done = () => {
			signal.removeEventListener("abort", aborted);
			resolve();
		};
		const timer = setTimeout(done, ms);
		const aborted = () => {
			clearTimeout(timer);
			reject(signal.reason);
		};
		signal.addEventListener("abort", aborted, { once: true });
	});
}

/** How a failed call should be handled. */
export type CallFailure =
	| { kind: "flood"; retryAfterMs: number; description: string }
	| { kind: "transient"; description: string }
	| { kind: "permanent"; code: number; description: string };

/**
 * Telegram's 429 carries `retry_after`; 5xx, network errors, timeouts and unparsable replies are
 * worth retrying; other 4xx will fail the same way again.
 */
export function classifyFailure(error: unknown): CallFailure {
	if (error instanceof TelegramError) {
		const code = Number(error.code);
		const description = String(error.message);
		if (code === 429) {
			const retryAfter = Number(error.payload?.retry_after ?? 1);
			return { kind: "flood", retryAfterMs: Math.max(1, retryAfter) * 1000, description };
		}
		if (code >= 500) return { kind: "transient", description };
		return { kind: "permanent", code, description };
	}
	const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
	return { kind: "transient", description };
}

/** Connection errors raised before a request was sent (Bun's fetch and Node's names). */
const NOT_SENT_CODES = new Set([
	"ConnectionRefused",
	"ECONNREFUSED",
	"FailedToOpenSocket",
	"ENOTFOUND",
	"EAI_AGAIN",
]);

/**
 * A failed call Telegram's flood limiter never counted: a 5xx (the Bot API did not take the call
 * in) or a connection that was never made. A 429, any other answer, a timeout or a connection
 * cut after the request went out may have counted, so they keep their place in the budget.
 */
export function neverReachedLimiter(error: unknown): boolean {
	if (error instanceof TelegramError) return Number(error.code) >= 500;
	const code = (error as { code?: unknown } | null)?.code;
	return typeof code === "string" && NOT_SENT_CODES.has(code);
}

/** Telegram's answer when a topic was deleted or does not exist. */
export function isTopicGone(failure: CallFailure): boolean {
	return (
		failure.kind === "permanent" &&
		/message thread not found|TOPIC_DELETED|TOPIC_ID_INVALID|TOPIC_CLOSED/i.test(
			failure.description,
		)
	);
}
