/**
 * Per-instance token buckets, one limiter shared by both doors: the web door spends
 * `init` … `widgetErrors`, the Telegram door `telegramDm`. Each kind has a capacity refilled
 * evenly over a minute; `take` spends one token or throws 429 RATE_LIMITED with the seconds until
 * the next token.
 */
import { clientKey } from "./client-key.ts";
import { AppError } from "./errors.ts";

export const rateLimits = {
	/** POST /api/chat/init and GET /ask-support, per client IP. */
	init: 10,
	/** Customer messages over HTTP and WebSocket together, per customer. */
	message: 20,
	upload: 10,
	/** history and status, per customer. */
	read: 60,
	link: 5,
	/** POST /api/widget/errors, per client IP (whatever the Origin header says). */
	widgetErrors: 20,
	/** Messages from a Telegram user in the private chat. */
	telegramDm: 20,
} as const;

export type RateKind = keyof typeof rateLimits;

interface Bucket {
	tokens: number;
	updated: number;
}

export interface RateLimiter {
	/** Spends a token of `kind` for `key`; throws AppError 429 when none is left. */
	take(kind: RateKind, key: string): void;
	/** Like take, but answers instead of throwing: the seconds to wait, or 0 when allowed. */
	tryTake(kind: RateKind, key: string): number;
}

/** Buckets idle longer than this are full again and can be forgotten. */
const SWEEP_AFTER_MS = 2 * 60_000;

/** Kinds keyed by client IP: an IPv6 client is counted by its /64 (it can use any address in it). */
const PER_IP: ReadonlySet<RateKind> = new Set(["init", "widgetErrors"]);

/** Buckets kept at most; a flood of distinct keys cannot grow the limiter past this. */
export const MAX_BUCKETS = 100_000;

export function createRateLimiter(
	limits: Record<RateKind, number> = rateLimits,
	now: () => number = Date.now,
	maxBuckets: number = MAX_BUCKETS,
): RateLimiter & { size(): number } {
	const buckets = new Map<string, Bucket>();
	let lastSweep = now();

	function sweep(at: number, force = false) {
		if (!force && at - lastSweep < SWEEP_AFTER_MS) return;
		lastSweep = at;
		for (const [key, bucket] of buckets)
			if (at - bucket.updated > SWEEP_AFTER_MS) buckets.delete(key);
	}

	/**
	 * Room for one more bucket: idle ones go first; when a flood of fresh keys leaves none idle,
	 * the least recently used tenth goes (the map keeps buckets in order of last use). A forgotten
	 * bucket starts full again, which costs an attacker who rotates keys nothing they did not have.
	 */
	function makeRoom(at: number) {
		if (buckets.size < maxBuckets) return;
		sweep(at, true);
		if (buckets.size < maxBuckets) return;
		let drop = Math.max(1, Math.floor(maxBuckets / 10));
		for (const key of buckets.keys()) {
			if (drop-- <= 0) break;
			buckets.delete(key);
		}
	}

	function tryTake(kind: RateKind, key: string): number {
		const capacity = limits[kind];
		const perMs = capacity / 60_000;
		const at = now();
		sweep(at);
		const id = `${kind}\u0000${PER_IP.has(kind) ? clientKey(key) : key}`;
		let bucket = buckets.get(id);
		if (bucket)
			buckets.delete(id); // re-inserted below: most recently used last
		else {
			makeRoom(at);
			bucket = { tokens: capacity, updated: at };
		}
		bucket.tokens = Math.min(capacity, bucket.tokens + (at - bucket.updated) * perMs);
		bucket.updated = at;
		buckets.set(id, bucket);
		if (bucket.tokens >= 1) {
			bucket.tokens -= 1;
			return 0;
		}
		return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
	}

	return {
		tryTake,
		size: () => buckets.size,
		take(kind, key) {
			const wait = tryTake(kind, key);
			if (wait > 0)
				throw new AppError("RATE_LIMITED", `Too many requests. Try again in ${wait} s.`, 429, {
					"retry-after": String(wait),
				});
		},
	};
}
