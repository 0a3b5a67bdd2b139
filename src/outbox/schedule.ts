/**
 * When the worker claims without being woken by a commit: the idle poll (the safety net behind
 * the wake-ups, e.g. items whose lease a crashed instance left to expire), the moment an item's
 * backoff or the group's flood budget runs out, and the repair sweep that re-derives heads no
 * write path should have left wrong (a failsafe, run at start too: a restore or rows written by
 * hand are mended at once).
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import { repairHeads } from "./statements.ts";

export interface ScheduleOptions {
	idlePollMs: number;
	repairMs: number;
}

export class Schedule {
	private pollTimer: ReturnType<typeof setInterval> | undefined;
	private repairTimer: ReturnType<typeof setInterval> | undefined;
	private budgetWakeAt = Number.POSITIVE_INFINITY;

	constructor(
		private readonly database: Database,
		private readonly log: Logger,
		private readonly options: ScheduleOptions,
		/** Claims now. */
		private readonly pump: () => void,
	) {}

	start(): void {
		this.pollTimer = setInterval(this.pump, this.options.idlePollMs);
		this.repairTimer = setInterval(() => void this.repair(), this.options.repairMs);
		this.repairTimer.unref?.();
		void this.repair();
	}

	stop(): void {
		clearInterval(this.pollTimer);
		clearInterval(this.repairTimer);
	}

	/**
	 * Claims in `ms` (an item's backoff or a flood wait ends), rather than up to one idle poll
	 * late. Times come from this process's clock, like the wait they measure.
	 */
	after(ms: number): void {
		const timer = setTimeout(this.pump, ms + 5);
		timer.unref?.();
	}

	/** Claims when the group budget refills; one pending timer is enough however often asked. */
	afterBudget(ms: number): void {
		const at = Date.now() + ms;
		if (this.budgetWakeAt > Date.now() && this.budgetWakeAt <= at) return;
		this.budgetWakeAt = at;
		this.after(ms);
	}

	private async repair() {
		try {
			const fixed = await repairHeads(this.database);
			if (fixed > 0) {
				this.log.warn("outbox heads repaired", { event: "outbox.heads_repaired", queues: fixed });
				this.pump();
			}
		} catch (error) {
			this.log.warn("outbox heads repair failed", { error: String(error) });
		}
	}
}
