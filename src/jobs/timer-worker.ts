/**
 * Fires due timers. Each firing claims what is due with SKIP LOCKED and applies it in the same
 * transaction, so a timer fires once however many instances run, and a crash mid-way leaves it
 * due for the next tick.
 *
 * It does not tick on a fixed short interval: after each run it reads when the next timer is due
 * (one indexed `min(fire_at)`) and sleeps until then, or until `wake()`. A timer armed meanwhile
 * cannot be due sooner than the policy's shortest delay (`shortestDelay`: a new SLA clock, a
 * waiting reminder or auto-close all count from now), so the sleep never outlasts that; the one
 * path that arms from an earlier moment (merging two customers' histories) wakes the worker after
 * its commit (`Work.timersChanged`). The sleep is also capped at `idleMaxMs` (a minute), for a
 * timer left by another instance that stopped before firing it. With the default policy (10 min)
 * an idle desk costs one small read a minute (it was one every 2 s, with the outbox's and the
 * instance count's polls most of the statements an idle desk made).
 */
import { fireDueTimers } from "../core/timer-runs.ts";
import type { CoreDeps, TimerPolicy } from "../core/unit-of-work.ts";
import { rawStatement } from "../db/raw-sql.ts";
import type { Logger } from "../observability/logger.ts";

export interface TimerWorker {
	start(): void;
	stop(): Promise<void>;
	/** Looks for due timers now (e.g. one was just armed to fire soon). */
	wake(): void;
}

const NEXT_DUE_SQL =
	"select (extract(epoch from min(fire_at)) * 1000)::float8 as at from timers where parked_at is null";

/**
 * How soon a timer armed now can fall due, less a second for the clock a transaction reads
 * (`now()` is its start): business hours only push a fire time later.
 * @example shortestDelay({ slaReminders: [600_000, ...], waitingReminder: 86_400_000, ... }) // 599_000
 */
export function shortestDelay(policy: TimerPolicy): number {
	const delays = [policy.waitingReminder, policy.waitingAutoclose];
	if (policy.slaReminders[0] !== undefined) delays.push(policy.slaReminders[0]);
	return Math.min(...delays) - 1000;
}

export function createTimerWorker(
	core: CoreDeps,
	log: Logger,
	tickMs = 250,
	idleMaxMs = 60_000,
): TimerWorker {
	const sleepMaxMs = Math.max(tickMs, Math.min(idleMaxMs, shortestDelay(core.policy)));
	let running = false;
	let timer: ReturnType<typeof setTimeout> | undefined;
	/** The run in flight, if any: stop() waits for it, and a new run never overlaps it. */
	let inFlight: Promise<void> | undefined;
	let wakeAgain = false;

	const nextDue = async (): Promise<number> => {
		const [row] = await rawStatement<{ at: number | string | null }>(
			core.database,
			NEXT_DUE_SQL,
			[],
		);
		return row?.at == null ? Number.POSITIVE_INFINITY : Number(row.at);
	};

	async function run(): Promise<number> {
		try {
			let due = await nextDue();
			if (due <= Date.now()) {
				// Keep going while batches come back full: a backlog after downtime drains at once.
				// One transaction per timer (core/timer-runs.ts): a failing one never blocks the rest.
				for (let fired = 50; fired === 50; ) fired = await fireDueTimers(core, log, 50);
				due = await nextDue();
			}
			return Math.min(sleepMaxMs, Math.max(tickMs, due - Date.now()));
		} catch (error) {
			log.warn("timer tick failed", { error: String(error) });
			return sleepMaxMs;
		}
	}

	const schedule = (ms: number) => {
		if (!running) return;
		if (timer) clearTimeout(timer);
		timer = setTimeout(tick, ms);
	};

	function tick() {
		timer = undefined;
		if (!running) return;
		if (inFlight) {
			wakeAgain = true;
			return;
		}
		inFlight = run().then((delay) => {
			inFlight = undefined;
			schedule(wakeAgain ? 0 : delay);
			wakeAgain = false;
		});
	}

	return {
		start() {
			if (running) return;
			running = true;
			schedule(0);
		},
		wake() {
			if (running) schedule(0);
		},
		async stop() {
			running = false;
			if (timer) clearTimeout(timer);
			timer = undefined;
			await inFlight;
		},
	};
}
