/**
 * The update queue of the Bot API double, with Telegram's delivery semantics:
 * - `getUpdates` long polling: `offset` confirms (and forgets) every update below it; with
 *   nothing pending the request is held until an update arrives or `timeout` seconds pass;
 *   a second poll while one is held makes Telegram answer the earlier one 409.
 * - a webhook, when set, receives the updates by POST instead, one at a time and in order,
 *   retried until it answers 2xx; getUpdates then answers 409.
 */
import type { TelegramUpdate } from "gramio";
import { ERR } from "./telegram-double-errors.ts";

export type UpdateType = Exclude<keyof TelegramUpdate, "update_id">;
export type NewUpdate = Omit<TelegramUpdate, "update_id">;

/** Types Telegram sends when `allowed_updates` is empty or was never given. */
const DEFAULT_EXCLUDED: ReadonlySet<string> = new Set([
	"chat_member",
	"message_reaction",
	"message_reaction_count",
]);

export interface PollRequest {
	offset?: number;
	limit?: number;
	timeout?: number;
	allowedUpdates?: string[];
	/** Aborted when the client goes away; the hold is released without a reply. */
	signal?: AbortSignal;
}

export interface WebhookState {
	url: string;
	secretToken?: string;
	maxConnections: number;
	allowedUpdates?: string[];
	lastErrorDate?: number;
	lastErrorMessage?: string;
}

interface HeldPoll {
	limit: number;
	finish: (outcome: TelegramUpdate[] | "conflict") => void;
}

function typeOf(update: TelegramUpdate): string | undefined {
	return Object.keys(update).find((key) => key !== "update_id");
}

export class UpdateQueue {
	private pending: TelegramUpdate[] = [];
	/** Never reset, so a poller's stored offset stays valid across test resets. */
	private lastUpdateId = 0;
	private held: HeldPoll | null = null;
	private allowed: string[] = [];
	private webhookState: WebhookState | null = null;
	private delivering = false;
	private closed = false;
	private readonly lifetime = new AbortController();

	constructor(private readonly webhookRetryMs: number) {}

	/** Adds an update (assigning its id) and wakes the held poll or the webhook loop. */
	push(update: NewUpdate): TelegramUpdate {
		this.lastUpdateId += 1;
		const full = { update_id: this.lastUpdateId, ...update } as TelegramUpdate;
		this.pending.push(full);
		if (this.held) {
			const ready = this.takeReady(this.held.limit);
			if (ready.length > 0) this.held.finish(ready);
		}
		void this.deliverToWebhook();
		return full;
	}

	/** Updates not yet confirmed (for inspection and getWebhookInfo). */
	get pendingUpdates(): readonly TelegramUpdate[] {
		return this.pending;
	}

	/** The id of the last update pushed (0 before the first). */
	get lastId(): number {
		return this.lastUpdateId;
	}

	/**
	 * True once the update left the queue: confirmed by a getUpdates `offset` above it, answered
	 * 2xx by the webhook, or dropped as a type the bot does not receive.
	 */
	isConfirmed(updateId: number): boolean {
		return updateId <= this.lastUpdateId && !this.pending.some((u) => u.update_id === updateId);
	}

	/** Telegram's getUpdates. Throws 409 BotApiErrors like Telegram does. */
	async getUpdates(request: PollRequest): Promise<TelegramUpdate[]> {
		if (this.webhookState) throw ERR.webhookActive();
		if (request.allowedUpdates !== undefined) this.allowed = request.allowedUpdates;
		this.confirm(request.offset ?? 0);
		const limit = Math.min(100, Math.max(1, request.limit ?? 100));
		// Telegram keeps one poll per bot: the newer request wins, the held one gets 409.
		this.held?.finish("conflict");
		const ready = this.takeReady(limit);
		const timeout = request.timeout ?? 0;
		if (ready.length > 0 || timeout <= 0 || this.closed) return ready;

		const outcome = await new Promise<TelegramUpdate[] | "conflict">((resolve) => {
			const poll: HeldPoll = {
				limit,
				finish: (result) => {
					clearTimeout(timer);
					request.signal?.removeEventListener("abort", onAbort);
					if (this.held === poll) this.held = null;
					resolve(result);
				},
			};
			const timer = setTimeout(() => poll.finish([]), timeout * 1000);
			const onAbort = () => poll.finish([]);
			request.signal?.addEventListener("abort", onAbort);
			this.held = poll;
		});
		if (outcome === "conflict") throw ERR.pollConflict();
		return outcome;
	}

	/** Forgets updates below `offset`; a negative offset keeps only the last -offset ones. */
	private confirm(offset: number): void {
		if (offset > 0) this.pending = this.pending.filter((u) => u.update_id >= offset);
		else if (offset < 0) this.pending = this.pending.slice(offset);
	}

	/** Pending updates of allowed types; updates of other types are dropped as Telegram does. */
	private takeReady(limit: number): TelegramUpdate[] {
		const allowed = this.allowed.length > 0 ? new Set(this.allowed) : undefined;
		this.pending = this.pending.filter((u) => {
			const type = typeOf(u) ?? "";
			return allowed ? allowed.has(type) : !DEFAULT_EXCLUDED.has(type);
		});
		return this.pending.slice(0, limit);
	}

	get webhook(): Readonly<WebhookState> | null {
		return this.webhookState;
	}

	setWebhook(state: WebhookState, dropPending: boolean): void {
		if (dropPending) this.pending = [];
		if (state.allowedUpdates !== undefined) this.allowed = state.allowedUpdates;
		this.webhookState = state;
		// A held poll cannot continue once a webhook is set.
		this.held?.finish("conflict");
		void this.deliverToWebhook();
	}

	deleteWebhook(dropPending: boolean): void {
		if (dropPending) this.pending = [];
		this.webhookState = null;
	}

	/** Posts pending updates to the webhook one by one, retrying failures after a pause. */
	private async deliverToWebhook(): Promise<void> {
		if (this.delivering) return;
		this.delivering = true;
		try {
			for (;;) {
				const hook = this.webhookState;
				if (!hook || this.closed) return;
				const update = this.takeReady(1)[0];
				if (!update) return;
				const failure = await this.post(hook, update);
				if (failure === undefined) {
					this.pending = this.pending.filter((u) => u.update_id !== update.update_id);
					continue;
				}
				hook.lastErrorDate = Math.floor(Date.now() / 1000);
				hook.lastErrorMessage = failure;
				await this.sleep(this.webhookRetryMs);
			}
		} finally {
			this.delivering = false;
		}
	}

	/** One webhook POST; returns Telegram's `last_error_message` wording on failure. */
	private async post(hook: WebhookState, update: TelegramUpdate): Promise<string | undefined> {
		const headers: Record<string, string> = { "content-type": "application/json" };
		if (hook.secretToken) headers["x-telegram-bot-api-secret-token"] = hook.secretToken;
		try {
			const response = await fetch(hook.url, {
				method: "POST",
				headers,
				body: JSON.stringify(update),
				signal: AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(10_000)]),
			});
			await response.arrayBuffer();
			if (response.ok) return undefined;
			return `Wrong response from the webhook: ${response.status} ${response.statusText}`;
		} catch (error) {
			return `Connection failed: ${error instanceof Error ? error.message : String(error)}`;
		}
	}

	private sleep(ms: number): Promise<void> {
		const signal = this.lifetime.signal;
		return new Promise((resolve) => {
			const onAbort = () => {
				clearTimeout(timer);
				resolve();
			};
			const timer = setTimeout(() => {
				signal.removeEventListener("abort", onAbort);
				resolve();
			}, ms);
			signal.addEventListener("abort", onAbort, { once: true });
		});
	}

	/** Drops pending updates and the webhook; a held poll stays (the service is still polling). */
	reset(): void {
		this.pending = [];
		this.allowed = [];
		this.webhookState = null;
	}

	/** Answers the held poll with `[]` and stops webhook delivery. */
	close(): void {
		this.closed = true;
		this.held?.finish([]);
		this.lifetime.abort();
	}
}
