/**
 * The composition root: builds and runs the whole service from a config. Entry points call it
 * (`topicdesk serve`; tests with their own database and Telegram double); nothing else imports
 * it. Each part is built in src/service/, in the order they depend on one another, and
 * everything started here is stopped by `stop()` (service/shutdown.ts).
 */
import type { PGlite } from "@electric-sql/pglite";
import type { Config } from "./config/index.ts";
import { createRateLimiter, rateLimits } from "./core/rate-limiter.ts";
import type { CoreDeps } from "./core/unit-of-work.ts";
import type { Database } from "./db/client.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { createMetrics } from "./observability/metrics.ts";
import { eventsDetail, openBus } from "./service/bus.ts";
import { createCore, type Wakers } from "./service/core.ts";
import { createReadiness } from "./service/readiness.ts";
import { shutdownOnce } from "./service/shutdown.ts";
import { openStorage } from "./service/storage.ts";
import { openTelegramSide } from "./service/telegram.ts";
import { listenWeb } from "./service/web.ts";
import { createWorkers } from "./service/workers.ts";
import { createGroupRegistry } from "./telegram/group-registry.ts";

export interface ServiceOptions {
	/** An already booted PGlite to use instead of opening DATA_DIR (tests boot one per run). */
	pglite?: PGlite;
	log?: Logger;
}

export interface RunningService {
	url: string;
	port: number;
	database: Database;
	core: CoreDeps;
	log: Logger;
	stop(): Promise<void>;
}

/**
 * Throws DataDirBusy when another process holds the embedded database's DATA_DIR, and
 * AppSecretMissing when PostgreSQL is used without APP_SECRET.
 */
export async function startService(
	config: Config,
	options: ServiceOptions = {},
): Promise<RunningService> {
	const log = options.log ?? serviceLogger(config);
	const storage = await openStorage(config, options, log);
	const { database, appSecret } = storage;
	const metrics = createMetrics();
	const wakers: Wakers = {};
	const bus = await openBus({ config, database, log, onRemoteNotice: () => wakers.outbox?.wake() });
	const groups = createGroupRegistry(config.groupRoutes);
	const core = await createCore({ config, database, bus, wakers, metrics, log, groups });
	// One rate limiter for both doors: each spends its own kinds from it.
	const limiter = createRateLimiter({ ...rateLimits, ...config.rateLimits });
	const telegram = await openTelegramSide({
		config,
		core,
		database,
		appSecret,
		log,
		metrics,
		limiter,
		wakers,
		groups,
	});
	const workers = createWorkers(config, core, log);
	wakers.timers = workers.timers;
	const readiness = createReadiness({
		database,
		bot: telegram.readiness,
		groups: telegram.groupsCheck,
		events: () => eventsDetail(bus),
	});
	const web = listenWeb({
		config,
		core,
		appSecret,
		bus,
		telegram,
		readiness,
		limiter,
		metrics,
		log,
	});
	workers.start();
	telegram.start(web.publicUrl);
	log.info("topicdesk listening", {
		event: "service.listening",
		port: web.port,
		database: database.kind,
		bot: telegram.mode(),
	});
	return {
		url: `http://127.0.0.1:${web.port}`,
		port: web.port,
		database,
		core,
		log,
		stop: shutdownOnce({ web, telegram, workers, bus, storage }),
	};
}

/** Logs as JSON in production; never prints the bot token, the app secret or the metrics token. */
function serviceLogger(config: Config): Logger {
	return createLogger({
		level: config.logLevel,
		json: config.nodeEnv === "production",
		secrets: [
			config.botToken ?? "",
			config.appSecret ?? "",
			config.metricsToken ?? "",
			config.identitySecret ?? "",
		],
	});
}
