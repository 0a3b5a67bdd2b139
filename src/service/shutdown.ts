/**
 * Stopping the service, in one place and in the order that loses nothing: stop accepting, stop
 * polling, drain the workers, close the sockets (1001), close the database.
 */
import type { ServiceBus } from "./bus.ts";
import type { Storage } from "./storage.ts";
import type { TelegramSide } from "./telegram.ts";
import type { WebSide } from "./web.ts";
import type { Workers } from "./workers.ts";

export interface RunningParts {
	web: WebSide;
	telegram: TelegramSide;
	workers: Workers;
	bus: ServiceBus;
	storage: Storage;
}

/** Returns `stop()`: the first call shuts down, later calls wait for that same shutdown. */
export function shutdownOnce(parts: RunningParts): () => Promise<void> {
	let stopping: Promise<void> | undefined;
	return () => {
		stopping ??= shutdown(parts);
		return stopping;
	};
}

async function shutdown({ web, telegram, workers, bus, storage }: RunningParts): Promise<void> {
	web.stopAccepting();
	// The held long poll is aborted: no new update comes in.
	await telegram.stopReceiving();
	// Drain: runs in progress finish; work still queued stays in the database for the next start.
	await workers.stop();
	await telegram.stopSending();
	await bus.close?.();
	await web.close();
	await storage.close();
}
