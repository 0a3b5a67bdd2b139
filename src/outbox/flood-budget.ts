/**
 * Telegram's flood limits as budgets: about 20 calls a minute into each support group,
 * one a second per private chat, 30 a second overall. Every Bot API call is counted here (the
 * client's hook); the outbox worker claims group work only while the group has budget left, and a
 * 429 pauses the chat it came from, and only that chat, for `retry_after`. A call Telegram never
 * took in (a 5xx, a refused connection) is refunded: an outage does not spend the budget.
 */

/**
 * A budget's chat: "group" is the default support group, `group:<id>` another support group
 * (each has a window of its own), `dm:<id>` a private chat.
 */
export type ChatKey = GroupKey | `dm:${number}`;
export type GroupKey = "group" | `group:${number}`;

const isGroup = (key: string): key is GroupKey => key === "group" || key.startsWith("group:");

/** A group's calls still inside its sliding window, oldest first (from `head`). */
interface Window {
	calls: number[];
	head: number;
}

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
	/** The group's budget is the bottleneck: worth merging messages to save calls. */
	groupTight(group?: GroupKey): boolean;
	/** The outbox worker found more group work than budget (true) or could take all of it (false). */
	noteGroupBacklog(backlog: boolean, group?: GroupKey): void;
}

export function createFloodBudget(options: FloodBudgetOptions): FloodBudget {
	const now = options.now ?? Date.now;
	const buckets = new Map<string, Bucket>();
	const backlogs = new Set<string>();
	// A group's budget is a sliding window like Telegram's own (a token bucket could spend up to
	// twice its size within one window): the times of the calls still inside it, oldest first.
	const windows = new Map<string, Window>();
	const windowOf = (key: string) => {
		const found = windows.get(key) ?? { calls: [], head: 0 };
		windows.set(key, found);
		return found;
	};
	const groupLeft = (key: string) => {
		const w = windowOf(key);
		const from = now() - options.groupWindowMs;
		while (w.head < w.calls.length && (w.calls[w.head] as number) <= from) w.head++;
		if (w.head > 1024) {
			w.calls.splice(0, w.head);
			w.head = 0;
		}
		return options.groupPerWindow - (w.calls.length - w.head);
	};
	const rate = (key: string) =>
		isGroup(key)
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
		return Math.max(0, Math.floor(isGroup(key) ? groupLeft(key) : b.tokens));
	};

	return {
		record(chat) {
			const at = now();
			if (isGroup(chat)) windowOf(chat).calls.push(at);
			else bucket(chat).tokens -= 1;
			bucket("global").tokens -= 1;
			return at;
		},
		refund(chat, recordedAt) {
			if (isGroup(chat)) {
				// Its entry leaves the window (unless it already slid out of it by itself).
				const w = windowOf(chat);
				const at = w.calls.lastIndexOf(recordedAt);
				if (at >= w.head) w.calls.splice(at, 1);
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
			if (isGroup(chat)) {
				// Short of `calls`: that many of the oldest calls in the window have to leave it first.
				const short = Math.min(calls, options.groupPerWindow) - groupLeft(chat);
				const w = windowOf(chat);
				const oldest = short < 1 ? undefined : w.calls[w.head + short - 1];
				const slides = oldest === undefined ? 0 : oldest + options.groupWindowMs - now();
				return Math.ceil(Math.max(paused, slides));
			}
			const refill = b.tokens >= calls ? 0 : (calls - b.tokens) / rate(chat).perMs;
			return Math.ceil(Math.max(paused, refill));
		},
		groupTight(group = "group") {
			return backlogs.has(group) || bucket(group).pausedUntil > now() || groupLeft(group) < 2;
		},
		noteGroupBacklog(value, group = "group") {
			if (value) backlogs.add(group);
			else backlogs.delete(group);
		},
	};
}

/** The budget of a support group: "group" for the default one (the first of `groups`). */
export function groupKeyOf(groups: readonly number[], groupId: number): GroupKey {
	return groupId === groups[0] ? "group" : `group:${groupId}`;
}

/** Which budget a Bot API call draws from: a support group, a private chat, or none. */
export function chatKeyOf(params: unknown, groups: readonly number[]): ChatKey | undefined {
	const chatId = Number((params as { chat_id?: unknown } | undefined)?.chat_id);
	if (!Number.isFinite(chatId) || chatId === 0) return undefined;
	if (groups.includes(chatId)) return groupKeyOf(groups, chatId);
	return chatId > 0 ? `dm:${chatId}` : undefined;
}
