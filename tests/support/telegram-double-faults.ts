/**
 * Fault injection and flood control for the Bot API double: queued failures for the next calls
 * of a method, a seeded random fault rate, and sliding-window flood limits answering 429 with
 * `retry_after` like Telegram.
 */
import type { TelegramResponseParameters } from "gramio";
import { BotApiError, defaultDescription, tooManyRequests } from "./telegram-double-errors.ts";

/**
 * An error reply to inject, in the wire shape. `description` defaults to Telegram's wording
 * for the code; `retry_after` is shorthand for `parameters.retry_after` (use with 429).
 */
export interface InjectedError {
	error_code: number;
	description?: string;
	parameters?: TelegramResponseParameters;
	retry_after?: number;
}

/**
 * A network failure: the request is held `afterMs` (default 0) and then the connection is
 * reset without a reply. With `applied: true` the call takes effect first (the message is
 * sent) and only the reply is lost, the case that makes at-least-once delivery duplicate.
 */
export interface DropFault {
	drop: true;
	afterMs?: number;
	applied?: boolean;
}

export type Fault = InjectedError | DropFault;

export interface FaultRate {
	/** Fraction of calls (0..1) that fail. */
	rate: number;
	/** Seed of the PRNG, for reproducible runs; random when omitted. */
	seed?: number;
	/** One of these is picked at random for each failing call. */
	errors: Fault[];
	/** Limit to these methods; all methods when omitted. */
	methods?: string[];
}

export interface FloodLimit {
	/** The chat whose sends are counted; omitted = one budget shared by all chats. */
	chatId?: number;
	max: number;
	windowMs: number;
}

/**
 * Methods that write into a chat and therefore count against flood limits (Telegram counts
 * edits, deletes and topic changes as well as sends).
 */
export const CHAT_WRITE_METHODS: ReadonlySet<string> = new Set([
	"sendMessage",
	"sendPhoto",
	"sendDocument",
	"sendVoice",
	"sendAudio",
	"sendVideo",
	"sendAnimation",
	"sendVideoNote",
	"sendSticker",
	"sendLocation",
	"sendVenue",
	"sendContact",
	"sendPoll",
	"sendDice",
	"sendMediaGroup",
	"copyMessage",
	"copyMessages",
	"forwardMessage",
	"forwardMessages",
	"editMessageText",
	"editMessageCaption",
	"editMessageMedia",
	"editMessageReplyMarkup",
	"deleteMessage",
	"deleteMessages",
	"pinChatMessage",
	"unpinChatMessage",
	"createForumTopic",
	"editForumTopic",
	"closeForumTopic",
	"reopenForumTopic",
	"deleteForumTopic",
]);

export function isDrop(fault: Fault): fault is DropFault {
	return "drop" in fault && fault.drop === true;
}

/** The BotApiError for an injected error reply. */
export function injectedError(fault: InjectedError): BotApiError {
	const retryAfter = fault.retry_after ?? fault.parameters?.retry_after;
	const parameters = {
		...fault.parameters,
		...(retryAfter !== undefined ? { retry_after: retryAfter } : {}),
	};
	return new BotApiError(
		fault.error_code,
		fault.description ?? defaultDescription(fault.error_code, retryAfter),
		Object.keys(parameters).length > 0 ? parameters : undefined,
	);
}

/** mulberry32: tiny, fast, good enough to make fault runs reproducible from a seed. */
function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

interface QueuedFault {
	method: string;
	remaining: number;
	fault: Fault;
}

interface ActiveRate {
	rate: number;
	errors: Fault[];
	methods?: ReadonlySet<string>;
	random: () => number;
}

interface ActiveFlood {
	limit: FloodLimit;
	/** Timestamps (ms) of admitted calls inside the window, oldest first. */
	admitted: number[];
}

export class FaultPlan {
	private queued: QueuedFault[] = [];
	private active: ActiveRate | null = null;
	private readonly floods = new Map<string, ActiveFlood>();

	/** The next `count` calls of `method` (`"*"` = any method) get `fault`. */
	failNext(method: string, count: number, fault: Fault): void {
		if (count > 0) this.queued.push({ method, remaining: count, fault });
	}

	/** Faults queued by failNext that no call has taken yet. */
	queuedCount(): number {
		return this.queued.reduce((sum, entry) => sum + entry.remaining, 0);
	}

	/** Random faults on a fraction of calls; `null` turns them off. */
	setFaultRate(rate: FaultRate | null): void {
		if (!rate || rate.rate <= 0 || rate.errors.length === 0) {
			this.active = null;
			return;
		}
		this.active = {
			rate: rate.rate,
			errors: rate.errors,
			...(rate.methods ? { methods: new Set(rate.methods) } : {}),
			random: mulberry32(rate.seed ?? Math.floor(Math.random() * 2 ** 32)),
		};
	}

	/** Installs (or replaces) the flood limit of a chat, or the global one without chatId. */
	setFloodLimit(limit: FloodLimit): void {
		this.floods.set(String(limit.chatId ?? "*"), { limit, admitted: [] });
	}

	clearFloodLimits(): void {
		this.floods.clear();
	}

	/** The fault for this call, if any: queued ones first, then the random rate. */
	take(method: string): Fault | undefined {
		const index = this.queued.findIndex((q) => q.method === method || q.method === "*");
		const queued = this.queued[index];
		if (queued) {
			queued.remaining -= 1;
			if (queued.remaining <= 0) this.queued.splice(index, 1);
			return queued.fault;
		}
		const active = this.active;
		if (!active || (active.methods && !active.methods.has(method))) return undefined;
		if (active.random() >= active.rate) return undefined;
		return active.errors[Math.floor(active.random() * active.errors.length)];
	}

	/**
	 * Counts a chat-writing call against the flood limits, or throws 429 with `retry_after` =
	 * whole seconds until the oldest call leaves the window (at least 1). Rejected calls do not
	 * count, like Telegram.
	 */
	admit(method: string, chatId: number | undefined, now: number): void {
		if (!CHAT_WRITE_METHODS.has(method) || this.floods.size === 0) return;
		const applicable = [this.floods.get("*")];
		if (chatId !== undefined) applicable.push(this.floods.get(String(chatId)));
		const floods = applicable.filter((f): f is ActiveFlood => f !== undefined);
		for (const flood of floods) {
			const since = now - flood.limit.windowMs;
			flood.admitted = flood.admitted.filter((t) => t > since);
			if (flood.admitted.length >= flood.limit.max) {
				const oldest = flood.admitted[0] ?? now;
				const wait = oldest + flood.limit.windowMs - now;
				throw tooManyRequests(Math.max(1, Math.ceil(wait / 1000)));
			}
		}
		for (const flood of floods) flood.admitted.push(now);
	}

	reset(): void {
		this.queued = [];
		this.active = null;
		this.floods.clear();
	}
}
