/**
 * The group sender: of several instances sharing one PostgreSQL, only the one holding a lock
 * sends work into the support group, so the group's flood budget (kept in that instance's memory)
 * is the whole group's. Private chats are sent by every instance. Without a lock (embedded PGlite
 * is one process) this instance is always the sender.
 */
import type { Logger } from "../observability/logger.ts";

/** A mutual-exclusion lock across instances (an advisory lock fits). */
export interface SenderLock {
	acquire(): Promise<boolean>;
	held(): Promise<boolean>;
	release(): Promise<void>;
}

/**
 * The advisory lock key of a bot's group sender: namespace "tg" in the high bits (the poller's
 * is "td"), the bot id in the low bits.
 */
export function groupSenderLockKey(botId: number): bigint {
	return (0x7467n << 48n) | BigInt(botId);
}

export class GroupSender {
	/** This instance sends group work now. */
	sending: boolean;
	private active = false;
	private timer: ReturnType<typeof setInterval> | undefined;

	constructor(
		private readonly lock: SenderLock | undefined,
		/** How often a missing lock is tried again and a held one re-checked. */
		private readonly checkMs: number,
		private readonly log: Logger,
		/** This instance just became the sender: group work may be waiting. */
		private readonly onSending: () => void,
	) {
		this.sending = !lock;
	}

	start(): void {
		if (!this.lock || this.active) return;
		this.active = true;
		this.timer = setInterval(() => void this.check(), this.checkMs);
		void this.check();
	}

	/** Stops checking; the lock is kept until `release`, so work in flight may still finish. */
	stop(): void {
		this.active = false;
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
	}

	async release(): Promise<void> {
		if (!this.lock) return;
		this.sending = false;
		await this.lock.release().catch(() => undefined);
	}

	private async check() {
		if (!this.lock || !this.active) return;
		try {
			const had = this.sending;
			this.sending = had ? await this.lock.held() : await this.lock.acquire();
			if (this.sending && !had) this.onSending();
		} catch (error) {
			this.sending = false;
			this.log.warn("group sender lock check failed", { error: String(error) });
		}
	}
}
