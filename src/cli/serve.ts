/** `topicdesk serve` (the default): starts the service and shuts it down once on SIGINT/SIGTERM. */
import type { Config } from "../config/index.ts";
import { AppSecretMissing } from "../runtime/app-secret.ts";
import { DataDirBusy } from "../runtime/data-dir.ts";
import { type RunningService, startService } from "../service.ts";

export async function serve(config: Config): Promise<void> {
	let service: RunningService;
	try {
		service = await startService(config);
	} catch (error) {
		if (!(error instanceof DataDirBusy || error instanceof AppSecretMissing)) throw error;
		process.stderr.write(`topicdesk: ${error.message}\n`);
		process.exit(1);
	}
	let shuttingDown = false;
	const shutdown = (signal: string) => {
		if (shuttingDown) return;
		shuttingDown = true;
		service.log.info("shutting down", { event: "service.stopping", signal });
		// A hung dependency must not keep the process alive past the orchestrator's patience.
		setTimeout(() => process.exit(1), 5000).unref();
		service.stop().then(
			() => process.exit(0),
			(error: unknown) => {
				service.log.error("shutdown failed", {
					event: "service.stop_failed",
					error: String(error),
				});
				process.exit(1);
			},
		);
	};
	process.on("SIGINT", () => shutdown("SIGINT"));
	process.on("SIGTERM", () => shutdown("SIGTERM"));
	// Benchmarks measure memory after a full collection: TOPICDESK_GC_ON_SIGUSR2=1 lets them ask.
	if (process.env.TOPICDESK_GC_ON_SIGUSR2 === "1") process.on("SIGUSR2", () => Bun.gc(true));
}
