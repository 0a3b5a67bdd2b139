/**
 * The core's dependencies, assembled from the config: database, texts, timer policy, the bus it
 * announces commits on, and the workers it wakes after a commit.
 */
import type { Config } from "../config/index.ts";
import { preloadCanned } from "../core/canned-replies.ts";
import { createMessageBatches } from "../core/messages.ts";
import type { SupportGroups } from "../core/support-groups.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Database } from "../db/client.ts";
import { createTexts } from "../i18n/texts.ts";
import type { TimerWorker } from "../jobs/timer-worker.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { OutboxWorker } from "../outbox/worker.ts";
import { countingAccepted, type ServiceBus } from "./bus.ts";

/**
 * The workers the core wakes after a commit. They run the core's commands, so they are built
 * after it, and set here as they are (the outbox only once a bot is configured).
 */
export interface Wakers {
	outbox?: OutboxWorker;
	timers?: TimerWorker;
}

export async function createCore(options: {
	config: Config;
	database: Database;
	bus: ServiceBus;
	wakers: Wakers;
	metrics: Metrics;
	log: Logger;
	/** The support groups new customers are spread over. */
	groups: SupportGroups;
}): Promise<CoreDeps> {
	const { config, bus, wakers } = options;
	const core: CoreDeps = {
		database: options.database,
		texts: createTexts(config.locale, config.texts),
		policy: {
			slaReminders: config.timers.slaReminders,
			waitingReminder: config.timers.waitingReminder,
			waitingAutoclose: config.timers.waitingAutoclose,
			businessHours: config.businessHours,
			away: config.away,
			autoAssign: config.assignment.auto === "first-reply",
		},
		bus: countingAccepted(bus, options.metrics),
		// Another instance may be the sender of what was committed here (the group sender).
		wakeOutbox: (queuedBehind) => {
			wakers.outbox?.wake(queuedBehind);
			bus.announceWork?.();
		},
		wakeTimers: () => wakers.timers?.wake(),
		groups: options.groups,
	};
	// Every instance starting with the file loads it: the same rows, whoever comes first.
	await preloadCanned(options.database, config.canned);
	return { ...core, messageBatches: createMessageBatches(core) };
}
