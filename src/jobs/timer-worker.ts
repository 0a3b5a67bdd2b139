/**
 * Fires due timers. Each tick claims what is due with SKIP LOCKED and applies it in the same
 * transaction, so a timer fires once however many instances run, and a crash mid-way leaves it
 * due for the next tick.
 */
import { fireDueTimers } from "../core/timer-runs.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Logger } from "../logger.ts";

export interface TimerWorker {
	start(): void;
	stop(): Promise<void>;
}

export function createTimerWorker(core: CoreDeps, log: Logger, tickMs = 250): TimerWorker {
	let timer: ReturnType<typeof setInterval> | undefined;
	/** The tick in flight, if any: stop() waits for it, and a new tick never overlaps it. */
	let inFlight: Promise<void> | undefined;

	async function tick() {
		try {
			// Keep going while batches come back full: a backlog after downtime drains at once.
			// One transaction per timer (core/timer-runs.ts): a failing one never blocks the rest.
			for (let fired = 50; fired === 50; ) fired = await fireDueTimers(core, log, 50);
		} catch (error) {
			log.warn("timer tick failed", { error: String(error) });
		}
	}

	return {
		start() {
			timer ??= setInterval(() => {
				// A tick that outlasts the interval is not doubled, and its promise is not replaced
				// by an empty one (stop() used to return while a tick was still committing).
				if (inFlight) return;
				inFlight = tick().finally(() => {
					inFlight = undefined;
				});
			}, tickMs);
		},
		async stop() {
			if (timer) clearInterval(timer);
			timer = undefined;
			await inFlight;
		},
	};
}
