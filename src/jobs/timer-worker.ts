/**
 * Fires due timers. Each firing claims what is due with SKIP LOCKED and applies it in the same
 * transaction, so a timer fires once however many instances run, and a crash mid-way leaves it
 * due for the next tick.
 *
 * It does not tick on a fixed short interval: after each run it reads when the next timer is due
 * (one indexed `min(fire_at)`) and sleeps until then, at least `tickMs` and at most `idleMaxMs`
 * (a timer armed meanwhile, here or by another instance, is seen within `idleMaxMs`), or until
 * `wake()`. An idle desk costs one small read every `idleMaxMs`.
 */
import { fireDueTimers } from "../core/timer-runs.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import { prepared } from "../db/prepared.ts";
import type { Logger } from "../logger.ts";

export interface TimerWorker {
	start(): void;
	stop(): Promise<void>;
	/** Looks for due timers now (e.g. one was just armed to fire soon). */
	wake(): void;
}

const NEXT_DUE_SQL =
	"select (extract(epoch from min(fire_at)) * 1000)::float8 as at from timers where parked_at is null";

export function createTimerWorker(
	core: CoreDeps,
	log: Logger,
	tickMs = 250,
	idleMaxMs = 2000,
): TimerWorker {
	let running = false;
	let timer: ReturnType<typeof setTimeout> | undefined;
	/** The run in flight, if any: stop() waits for it, and a new run never overlaps it. */
	let inFlight: Promise<void> | undefined;
	let wakeAgain = false;

	const nextDue = async (): Promise<number> => {
		const [row] = await prepared<{ at: number | string | null }>(
			core.database.db,
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
			return Math.min(idleMaxMs, Math.max(tickMs, due - Date.now()));
		} catch (error) {
			log.warn("timer tick failed", { error: String(error) });
			return idleMaxMs;
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
