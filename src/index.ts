/**
 * The composition root: the only module with side effects at import. Reads the config (exiting
 * with one line per problem), starts the service and shuts it down once on SIGINT/SIGTERM.
 */
import { readConfigOrExit } from "./config.ts";
import { startService } from "./service.ts";

const config = readConfigOrExit(process.env);
const service = await startService(config);

let shuttingDown = false;
const shutdown = (signal: string) => {
	if (shuttingDown) return;
	shuttingDown = true;
	service.log.info("shutting down", { signal });
	// A hung dependency must not keep the process alive past the orchestrator's patience.
	setTimeout(() => process.exit(1), 5000).unref();
	service.stop().then(
		() => process.exit(0),
		(error: unknown) => {
			service.log.error("shutdown failed", { error: String(error) });
			process.exit(1);
		},
	);
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
