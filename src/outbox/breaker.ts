/**
 * A target's view of Telegram (a circuit breaker), one per target (the group, the private chats).
 * After `outageAfter` transient failures in a row the target counts as down: only one probe item
 * at a time goes there, each after a growing pause, so an outage does not spend every item's
 * attempts. The items that backed off meanwhile are remembered, and woken at once when the target
 * answers again instead of waiting out their own backoffs.
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import { wakeHeads } from "./claim.ts";
import type { Target } from "./delivery.ts";

export interface BreakerOptions {
	/** Consecutive transient failures after which the target counts as down. */
	outageAfter: number;
	/** First pause before a probe; it doubles after each failed probe up to `probeMaxMs`. */
	probeFirstMs: number;
	/** Longest pause between probes while the target is down. */
	probeMaxMs: number;
}

/** Backed-off items remembered per target for the wake (the oldest are forgotten beyond it). */
const MAX_BACKED_OFF = 100_000;

export class Breaker {
	private failures = 0;
	private open = false;
	/** The pause before the next probe is over: one item may go. */
	private probeDue = false;
	/** The probe in flight, if any. */
	private probeId: number | undefined;
	private probeDelay: number;
	private probeTimer: ReturnType<typeof setTimeout> | undefined;
	/** Items waiting out a backoff after a transient failure, oldest first. */
	private readonly backedOff = new Set<number>();

	constructor(
		readonly target: Target,
		private readonly options: BreakerOptions,
		private readonly database: Database,
		private readonly log: Logger,
		/** A probe may go now, or what backed off is due again: the worker should claim. */
		private readonly onReady: () => void,
	) {
		this.probeDelay = options.probeFirstMs;
	}

	/** How many items of this target a claim may take: all the room, or one probe while down. */
	room(room: number): number {
		if (!this.open) return room;
		return this.probeDue && this.probeId === undefined ? Math.min(1, room) : 0;
	}

	/**
	 * A claim allowed `limit` items here and took `firstId` first (undefined: none). While down,
	 * that item is the probe; a probe that found nothing ready (every head is backing off) makes
	 * the oldest backed-off item due. True when it did: the caller claims again.
	 */
	async claimed(limit: number, firstId: number | undefined): Promise<boolean> {
		if (!this.open || limit <= 0) return false;
		if (firstId !== undefined) {
			this.probeDue = false;
			this.probeId = firstId;
			return false;
		}
		for (const id of this.backedOff) {
			this.backedOff.delete(id);
			if ((await wakeHeads(this.database, [id])) > 0) return true;
		}
		return false;
	}

	/**
	 * Telegram answered a call for this target (any answer but a 5xx or a network failure). When
	 * that ends an outage, the items that backed off during it are due at once.
	 */
	answered(id: number): void {
		this.failures = 0;
		if (!this.open) {
			this.backedOff.delete(id);
			return;
		}
		this.open = false;
		this.probeDue = false;
		this.probeId = undefined;
		this.probeDelay = this.options.probeFirstMs;
		this.stop();
		const ids = [...this.backedOff].filter((other) => other !== id);
		this.backedOff.clear();
		this.log.info("telegram answers again", {
			event: "outbox.target_up",
			target: this.target,
			waking: ids.length,
		});
		void wakeHeads(this.database, ids)
			.catch((error: unknown) =>
				this.log.warn("outbox wake after an outage failed", { error: String(error) }),
			)
			.then(() => this.onReady());
	}

	/** A call for this target failed at the network or with a 5xx; the item backs off. */
	unanswered(id: number): void {
		if (this.backedOff.size >= MAX_BACKED_OFF) {
			const oldest = this.backedOff.values().next().value;
			if (oldest !== undefined) this.backedOff.delete(oldest);
		}
		this.backedOff.add(id);
		this.failures++;
		if (this.open) {
			// Only the probe's failure sets the next probe; items sent before the target was found
			// down fail on their own.
			if (id !== this.probeId) return;
			this.probeId = undefined;
			this.probeDelay = Math.min(this.options.probeMaxMs, this.probeDelay * 2);
			this.scheduleProbe();
		} else if (this.failures >= this.options.outageAfter) {
			this.open = true;
			this.probeDue = false;
			this.probeDelay = this.options.probeFirstMs;
			this.log.warn("telegram unreachable: probing with one item", {
				event: "outbox.target_down",
				target: this.target,
			});
			this.scheduleProbe();
		}
	}

	/** Cancels a pending probe (stop, or the target is back). */
	stop(): void {
		if (this.probeTimer) clearTimeout(this.probeTimer);
		this.probeTimer = undefined;
	}

	private scheduleProbe() {
		if (this.probeTimer) return;
		this.probeTimer = setTimeout(() => {
			this.probeTimer = undefined;
			this.probeDue = true;
			this.onReady();
		}, this.probeDelay);
		this.probeTimer.unref?.();
	}
}
