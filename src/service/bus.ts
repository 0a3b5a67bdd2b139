/**
 * The event bus the core publishes committed facts on: LISTEN/NOTIFY when instances share a
 * PostgreSQL (an event committed on one reaches sockets held by another), in-process on PGlite,
 * which is one process's database.
 */
import type { Config } from "../config/index.ts";
import type { EventBus } from "../core/events.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { createLocalBus } from "../realtime/local-bus.ts";
import { createPgBus, type PgBus } from "../realtime/pg-bus.ts";

/** The in-process bus, or the PostgreSQL one with its extras. */
export type ServiceBus = EventBus & Partial<Pick<PgBus, "announcing" | "announceWork" | "close">>;

export async function openBus(options: {
	config: Config;
	database: Database;
	log: Logger;
	/** Another instance committed something: Telegram work this instance sends may be queued. */
	onRemoteNotice: () => void;
}): Promise<ServiceBus> {
	const { config, database, log } = options;
	if (!database.pg || !config.databaseUrl) return createLocalBus();
	return createPgBus({
		pg: database.pg,
		databaseUrl: config.databaseUrl,
		database,
		log,
		onRemoteNotice: options.onRemoteNotice,
	});
}

/** How events travel, for readiness; "(alone)": no other instance listens, so none is announced. */
export function eventsDetail(bus: ServiceBus): string {
	if (bus.announcing === undefined) return "in-process";
	return bus.announcing ? "listen/notify" : "listen/notify (alone)";
}

/**
 * The bus as the core sees it: a visitor's or customer's message is counted where the core
 * announces its commit, so once per message, on the instance that took it.
 */
export function countingAccepted(bus: EventBus, metrics: Metrics): EventBus {
	return {
		publish(customerId, event) {
			if (event.type === "message" && event.message.author === "user")
				metrics.messageAccepted(event.message.channel);
			bus.publish(customerId, event);
		},
		subscribe: (listener) => bus.subscribe(listener),
	};
}
