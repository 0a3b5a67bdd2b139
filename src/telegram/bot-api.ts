/**
 * The Bot API client we send every call through: `TELEGRAM_API_URL` is its root, each call
 * carries its own timeout and ends at shutdown, and the flood budgets and metrics wrap every call.
 * Calls with JSON parameters (all but uploads) bypass GramIO's call path, which builds a stack
 * trace, a `debug` logger (checking the terminal) and async hook chains per call, a measured share
 * of each message's CPU. They go over our keep-alive HTTP/1.1 client on the event loop's own
 * sockets (http1-client.ts says why), or through `fetch` when a proxy is set in the environment
 * (`fetch` honours HTTP(S)_PROXY and NO_PROXY; we do not reimplement that). Uploads (a `File`
 * among the parameters) go through GramIO, which builds the multipart body. GramIO's types and
 * errors are kept either way.
 */
import { Bot, TelegramError } from "gramio";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { chatKeyOf, type FloodBudget } from "../outbox/flood-budget.ts";
import { createCallDeadlines } from "./call-deadlines.ts";
import { createHttp1Client } from "./http1-client.ts";

export type BotApi = Bot["api"];

export interface BotClient {
	bot: Bot;
	api: BotApi;
	/** Numeric id of the bot, from the token (`<id>:<secret>`), so no getMe is needed to know it. */
	botId: number;
	/** Aborts every call in flight (shutdown). */
	abort(): void;
	/** The bare transport, without budgets, metrics or deadline (the poller's long poll). */
	post: JsonPost;
}

/** Sends a JSON body to a Bot API method; answers with the HTTP status and the parsed body. */
export type JsonPost = (
	method: string,
	body: string,
	signal: AbortSignal,
) => Promise<{ status: number; data: unknown }>;

export function createBotClient(options: {
	token: string;
	apiRoot: string;
	callTimeoutMs?: number;
	/** Counts every call against the flood budgets and pauses a chat on 429. */
	budget?: { budget: FloodBudget; groupId: number };
	/** Counts each call by method and result, and each 429's pause. */
	metrics?: Metrics;
	/** At debug level, one line per call with its method and result (never its parameters). */
	log?: Logger;
	/** JSON calls through `fetch` instead of the HTTP/1.1 client. Default: when a proxy is set. */
	viaFetch?: boolean;
}): BotClient {
	const shutdown = new AbortController();
	const deadlines = createCallDeadlines(options.callTimeoutMs ?? 30_000);
	const fetchOptions: RequestInit = {};
	// GramIO spreads `fetchOptions` into every request, which evaluates this getter per call: an
	// upload gets its deadline from the same sweep (its entry lapses at the deadline, as GramIO
	// does not say when the call settled) and ends at shutdown like any call.
	Object.defineProperty(fetchOptions, "signal", {
		enumerable: true,
		get: () => deadlines.start().signal,
	});
	const bot = new Bot(options.token, { api: { baseURL: `${options.apiRoot}/bot`, fetchOptions } });
	const endpoint = `${options.apiRoot}/bot${options.token}/`;
	const uploads = bot.api as unknown as Record<string, (params: unknown) => Promise<unknown>>;
	const direct =
		(options.viaFetch ?? proxyInEnvironment(process.env))
			? null
			: createHttp1Client(options.apiRoot);
	const path = new URL(endpoint).pathname;
	const post: JsonPost = async (method, body, signal) => {
		if (direct) {
			const answer = await direct.post(path + method, body, signal);
			return { status: answer.status, data: JSON.parse(answer.body) };
		}
		const response = await fetch(endpoint + method, {
			method: "POST",
			headers: JSON_HEADERS,
			body,
			signal,
		});
		return { status: response.status, data: await response.json() };
	};
	const send: Transport = async (method, params) => {
		if (carriesFile(params)) return uploads[method]?.(params);
		const call = deadlines.start();
		try {
			const { data } = await post(method, JSON.stringify(params ?? {}), call.signal);
			const answer = data as ApiResponse;
			if (!answer.ok) throw new TelegramError(answer, method as never, params as never);
			return answer.result;
		} finally {
			call.done();
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
			const chat = chatKeyOf(context.params, metered.groupId);
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
			// Every call into the group waits for its turn in the group's window: an item makes
			// several calls (topic, card, pin, message), so gating claims alone would burst. The
			// check and the record below run without an await between them, so concurrent calls
			// never take the same free slot.
			if (chat === "group")
				while (metered.budget.available("group") < 1)
					await abortableSleep(Math.max(5, metered.budget.waitMs("group")), shutdown.signal);
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
	// The first layer is the outermost, as GramIO ran its onApiCall hooks.
	const run = layers.reduceRight<Transport>(
		(next, layer) => (method, params) => layer({ method, params }, () => next(method, params)),
		send,
	);
	const methods = new Map<string, (params?: unknown) => Promise<unknown>>();
	const api = new Proxy({} as BotApi, {
		get: (_target, method) => {
			if (typeof method !== "string") return undefined;
			let call = methods.get(method);
			if (!call) {
				call = (params?: unknown) => run(method, params);
				methods.set(method, call);
			}
			return call;
		},
	});
	return {
		bot,
		api,
		botId: Number(options.token.split(":")[0]),
		post,
		abort: () => {
			shutdown.abort();
			deadlines.abortAll(shutdown.signal.reason);
			direct?.close();
		},
	};
}

type Transport = (method: string, params: unknown) => Promise<unknown>;
type Layer = (
	context: { method: string; params: unknown },
	next: () => Promise<unknown>,
) => Promise<unknown>;
type ApiResponse =
	| { ok: true; result: unknown }
	| { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } };

const JSON_HEADERS = { "Content-Type": "application/json" };

/** Whether `fetch` would send the Bot API's calls through a proxy set in the environment. */
export const proxyInEnvironment = (env: Record<string, string | undefined>) =>
	["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"].some((name) => Boolean(env[name]));

/** Whether the parameters upload a file (a `File` or `Blob` value): then GramIO sends them. */
const carriesFile = (params: unknown) =>
	typeof params === "object" &&
	params !== null &&
	Object.values(params).some((value) => value instanceof Blob);

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
