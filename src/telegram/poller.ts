/**
 * Long polling with acknowledgement after commit. GramIO's own loop confirms an update (by
 * moving `offset`) before its handlers have committed and cannot abort a poll in flight, so the
 * loop is ours: an update is confirmed only after `handle` resolved, a failing update is retried
 * (never skipped), and `stop()` aborts the held request at once.
 */
import { TelegramError, type TelegramUpdate } from "gramio";
import type { Logger } from "../observability/logger.ts";
import type { BotCall } from "./bot-transport.ts";

export interface PollerOptions {
	/** Long-poll timeout in seconds. */
	timeoutSeconds: number;
	handle(update: TelegramUpdate): Promise<void>;
	log: Logger;
	/**
	 * Conversations applied at once. Default 4: enough to overlap their round trips, few enough
	 * to leave the database pool to the web path. A batch of 100 operator replies in 100 topics
	 * applied all at once held every pooled connection, and visitors' messages queued behind
	 * them for over a second.
	 */
	lanes?: number;
	/** Called after each successful getUpdates round trip (readiness). */
	onPoll?: () => void;
	/** Told how each getUpdates ended: "ok", the error code, or "network" (metrics). */
	onCall?: (method: string, result: string) => void;
	/** How calls are sent: the bot client's bare call (bot-transport.ts). */
	call: BotCall;
}

/**
 * Splits a batch into conversations (a private chat, a topic, a callback's chat), keeping the
 * batch order inside each.
 */
export function conversations(updates: TelegramUpdate[]): TelegramUpdate[][] {
	const groups = new Map<string, TelegramUpdate[]>();
	for (const update of updates) {
		const message = update.message ?? update.edited_message;
		const callback = update.callback_query?.message;
		const chat = message?.chat.id ?? callback?.chat.id;
		const thread =
			message?.message_thread_id ??
			(callback && "message_thread_id" in callback ? callback.message_thread_id : undefined);
		const key = chat === undefined ? "other" : `${chat}:${thread ?? ""}`;
		const group = groups.get(key) ?? [];
		group.push(update);
		groups.set(key, group);
	}
	return [...groups.values()];
}

/** Runs `work` on every item, at most `lanes` at a time, taking them in order. */
export async function inLanes<T>(
	items: readonly T[],
	lanes: number,
	work: (item: T) => Promise<void>,
): Promise<void> {
	let next = 0;
	const lane = async () => {
		while (next < items.length) await work(items[next++] as T);
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, lane));
}

export interface Poller {
	start(): void;
	stop(): Promise<void>;
	/** False once a poll failed, until one succeeds again (and after stop). */
	healthy(): boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
	new Promise<void>((resolve) => {
		const timer = setTimeout(resolve, ms);
		signal.addEventListener("abort", () => {
			clearTimeout(timer);
			resolve();
		});
	});

export function createPoller(options: PollerOptions): Poller {
	const abort = new AbortController();
	let loop: Promise<void> | undefined;
	let offset = 0;
	// Optimistic until a poll fails: a held long poll gives no answer for up to its timeout.
	let healthy = true;
	const { call } = options;

	/** One long poll: held by Telegram up to its timeout, given 15 s more to answer. */
	async function fetchUpdates(): Promise<TelegramUpdate[]> {
		try {
			const updates = await call(
				"getUpdates",
				{ offset, timeout: options.timeoutSeconds },
				AbortSignal.any([abort.signal, AbortSignal.timeout((options.timeoutSeconds + 15) * 1000)]),
			);
			options.onCall?.("getUpdates", "ok");
			return (updates ?? []) as TelegramUpdate[];
		} catch (error) {
			if (!abort.signal.aborted)
				options.onCall?.(
					"getUpdates",
					error instanceof TelegramError ? String(error.code) : "network",
				);
			throw error;
		}
	}

	/** Retries an update until it commits (it is confirmed only by the next offset). */
	async function applyUntilCommitted(update: TelegramUpdate): Promise<boolean> {
		for (let attempt = 1; !abort.signal.aborted; attempt++) {
			try {
				await options.handle(update);
				return true;
			} catch (error) {
				options.log.error("update handling failed; retrying", {
					event: "telegram.update_failed",
					updateId: update.update_id,
					attempt,
					error: String(error),
				});
				await sleep(Math.min(30_000, 250 * 2 ** attempt), abort.signal);
			}
		}
		return false;
	}

	/**
	 * getUpdates is refused while a webhook is set (after switching from webhook mode): clear it
	 * once, keeping pending updates. Best effort: a failure shows up as failing polls.
	 */
	async function clearWebhook() {
		await call(
			"deleteWebhook",
			{ drop_pending_updates: false },
			AbortSignal.any([abort.signal, AbortSignal.timeout(10_000)]),
		).catch(() => undefined);
	}

	async function run() {
		await clearWebhook();
		let failures = 0;
		while (!abort.signal.aborted) {
			let updates: TelegramUpdate[];
			try {
				updates = await fetchUpdates();
				healthy = true;
				failures = 0;
				options.onPoll?.();
			} catch (error) {
				if (abort.signal.aborted) break;
				healthy = false;
				failures++;
				const retryAfter = error instanceof TelegramError ? error.payload?.retry_after : undefined;
				options.log.warn("getUpdates failed", {
					event: "telegram.poll_failed",
					error: String(error),
					failures,
				});
				await sleep(
					retryAfter ? retryAfter * 1000 : Math.min(30_000, 500 * 2 ** failures),
					abort.signal,
				);
				continue;
			}
			// Conversations are independent: each one's updates apply in order, a few conversations
			// at once, and the batch is confirmed (offset) only when all of them committed.
			await inLanes(conversations(updates), options.lanes ?? 4, async (group) => {
				for (const update of group) if (!(await applyUntilCommitted(update))) return;
			});
			if (abort.signal.aborted) break;
			const last = updates.at(-1);
			if (last) offset = last.update_id + 1;
		}
		healthy = false;
	}

	return {
		start() {
			loop ??= run();
		},
		async stop() {
			abort.abort();
			await loop;
		},
		healthy: () => healthy,
	};
}
