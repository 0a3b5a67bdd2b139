/**
 * Telegram's flood limits as budgets: about 20 calls a minute into the support group,
 * one a second per private chat, 30 a second overall. Every Bot API call is counted here (the
 * client's hook); the outbox worker claims group work only while the group has budget left, and a
 * 429 pauses the chat it came from, and only that chat, for `retry_after`. A call Telegram never
 * took in (a 5xx, a refused connection) is refunded: an outage does not spend the budget.
 */

export type ChatKey = "group" | `dm:${number}`;

interface Bucket {
	tokens: number;
	updated: number;
	pausedUntil: number;
}

export interface FloodBudgetOptions {
	groupPerWindow: number;
	groupWindowMs: number;
	privatePerSecond: number;
	globalPerSecond: number;
	now?: () => number;
}

export interface FloodBudget {
	/** A call is being made to this chat; returns when (for `refund`). */
	record(chat: ChatKey): number;
	/**
	 * The call just recorded for this chat never reached Telegram's limiter (a 5xx answer or a
	 * connection that was never made): it gives its place back. A 429 or any other answer counts.
	 */
	refund(chat: ChatKey, recordedAt: number): void;
	/** Telegram answered 429 for this chat. */
	pause(chat: ChatKey, ms: number): void;
	/** Whole calls this chat may take now (0 while paused or spent), also bounded by the global budget. */
	available(chat: ChatKey): number;
	/** Milliseconds this chat stays paused by a 429 (0 when it is not). */
	pausedFor(chat: ChatKey): number;
	/** Milliseconds until this chat has `calls` calls available (default 1). */
	waitMs(chat: ChatKey, calls?: number): number;
	/** The group budget is the bottleneck: worth merging messages to save calls. */
	groupTight(): boolean;
	/** The outbox worker found more group work than budget (true) or could take all of it (false). */
	noteGroupBacklog(backlog: boolean): void;
}

export function createFloodBudget(options: FloodBudgetOptions): FloodBudget {
	const now = options.now ?? Date.now;
	const buckets = new Map<string, Bucket>();
	let backlog = false;
	// The group's budget is a sliding window like Telegram's own (a token bucket could spend up to
	// twice its size within one window): the times of the calls still inside it, oldest first.
	const groupCalls: number[] = [];
	let groupHead = 0;
	const groupLeft = () => {
		const from = now() - options.groupWindowMs;
		while (groupHead < groupCalls.length && (groupCalls[groupHead] as number) <= from) groupHead++;
		if (groupHead > 1024) {
			groupCalls.splice(0, groupHead);
			groupHead = 0;
		}
		return options.groupPerWindow - (groupCalls.length - groupHead);
	};
	const rate = (key: string) =>
		key === "group"
			? { capacity: options.groupPerWindow, perMs: options.groupPerWindow / options.groupWindowMs }
			: key === "global"
				? { capacity: options.globalPerSecond, perMs: options.globalPerSecond / 1000 }
				: {
						capacity: Math.max(1, options.privatePerSecond),
						perMs: options.privatePerSecond / 1000,
					};

	function bucket(key: string): Bucket {
		const { capacity, perMs } = rate(key);
		const at = now();
		const found = buckets.get(key) ?? { tokens: capacity, updated: at, pausedUntil: 0 };
		found.tokens = Math.min(capacity, found.tokens + (at - found.updated) * perMs);
		found.updated = at;
		buckets.set(key, found);
		// Private chats idle for a while are full again: forget them so the map stays small.
		if (buckets.size > 10_000)
			for (const [k, b] of buckets)
				if (k.startsWith("dm:") && at - b.updated > 60_000) buckets.delete(k);
		return found;
	}

	const availableOf = (key: string) => {
		const b = bucket(key);
		if (b.pausedUntil > now()) return 0;
		return Math.max(0, Math.floor(key === "group" ? groupLeft() : b.tokens));
	};

	return {
		record(chat) {
			const at = now();
			if (chat === "group") groupCalls.push(at);
			else bucket(chat).tokens -= 1;
			bucket("global").tokens -= 1;
			return at;
		},
		refund(chat, recordedAt) {
			if (chat === "group") {
				// Its entry leaves the window (unless it already slid out of it by itself).
				const at = groupCalls.lastIndexOf(recordedAt);
				if (at >= groupHead) groupCalls.splice(at, 1);
			} else {
				const b = bucket(chat);
				b.tokens = Math.min(rate(chat).capacity, b.tokens + 1);
			}
			const g = bucket("global");
			g.tokens = Math.min(options.globalPerSecond, g.tokens + 1);
		},
		pause(chat, ms) {
			const b = bucket(chat);
			b.pausedUntil = Math.max(b.pausedUntil, now() + ms);
		},
		available(chat) {
			return Math.min(availableOf(chat), availableOf("global"));
		},
		pausedFor(chat) {
			return Math.max(0, bucket(chat).pausedUntil - now());
		},
		waitMs(chat, calls = 1) {
			const b = bucket(chat);
			const paused = Math.max(0, b.pausedUntil - now());
			if (chat === "group") {
				// Short of `calls`: that many of the oldest calls in the window have to leave it first.
				const short = Math.min(calls, options.groupPerWindow) - groupLeft();
				const oldest = short < 1 ? undefined : groupCalls[groupHead + short - 1];
				const slides = oldest === undefined ? 0 : oldest + options.groupWindowMs - now();
				return Math.ceil(Math.max(paused, slides));
			}
			const refill = b.tokens >= calls ? 0 : (calls - b.tokens) / rate(chat).perMs;
			return Math.ceil(Math.max(paused, refill));
		},
		groupTight() {
			return backlog || bucket("group").pausedUntil > now() || groupLeft() < 2;
		},
		noteGroupBacklog(value) {
			backlog = value;
		},
	};
}

/** Which budget a Bot API call draws from: the support group, a private chat, or none. */
export function chatKeyOf(params: unknown, groupId: number): ChatKey | undefined {
	const chatId = Number((params as { chat_id?: unknown } | undefined)?.chat_id);
	if (!Number.isFinite(chatId) || chatId === 0) return undefined;
	if (chatId === groupId) return "group";
	return chatId > 0 ? `dm:${chatId}` : undefined;
}
