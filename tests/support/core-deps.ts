/**
 * The core's dependencies wired to an outbox worker as the service wires them (the wake-up after
 * a commit), for tests that run the web hot path and the worker without a service.
 */
import { acceptCustomerMessage } from "../../src/core/messages.ts";
import type { CoreDeps } from "../../src/core/unit-of-work.ts";
import type { Database } from "../../src/db/client.ts";
import { createTexts } from "../../src/i18n/texts.ts";
import type { OutboxWorker } from "../../src/outbox/worker.ts";
import { createLocalBus } from "../../src/realtime/local-bus.ts";
import { until } from "./settle.ts";

export function workerDeps(database: Database, worker: OutboxWorker): CoreDeps {
	return {
		database,
		texts: createTexts("en"),
		policy: { slaReminders: [], waitingReminder: 60_000, waitingAutoclose: 120_000 },
		bus: createLocalBus(),
		wakeOutbox: (queuedBehind) => worker.wake(queuedBehind),
	};
}

/** A web text message as the web door accepts it, its text doubling as its clientMessageId. */
export const sendWebText = async (deps: CoreDeps, customerId: string, text: string) =>
	(await acceptCustomerMessage(deps, { customerId, channel: "web", text, clientMessageId: text }))
		.message;

/** Waits until `delivered` holds `count` texts for the customer (5 s at most). */
export const landedIn = (delivered: Map<string, string[]>, customerId: string, count: number) =>
	until(
		`${count} copies for ${customerId}`,
		async () => ((delivered.get(customerId)?.length ?? 0) >= count ? true : undefined),
		5000,
	);
