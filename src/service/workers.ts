/**
 * The workers that run beside the doors: durable timers (SLA reminders, waiting reminder,
 * auto-close) and retention. The outbox worker is built in `telegram.ts`, from the Telegram door's
 * deliveries (`src/outbox/worker.ts`).
 */
import type { Config } from "../config/index.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import { createRetentionJob } from "../jobs/retention.ts";
import { createTimerWorker, type TimerWorker } from "../jobs/timer-worker.ts";
import type { Logger } from "../observability/logger.ts";

export interface Workers {
	timers: TimerWorker;
	start(): void;
	/** Lets the runs in progress finish. */
	stop(): Promise<void>;
}

export function createWorkers(config: Config, core: CoreDeps, log: Logger): Workers {
	const timers = createTimerWorker(core, log);
	const retention = createRetentionJob({ database: core.database, policy: config.retention, log });
	return {
		timers,
		start() {
			timers.start();
			retention.start();
		},
		async stop() {
			await timers.stop();
			await retention.stop();
		},
	};
}
