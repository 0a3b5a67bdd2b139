/**
 * The web door, built and listening: the Elysia app, this instance's socket registry, media URLs
 * signed with the app secret, and the bus's events delivered to the sockets.
 */
import type { Config } from "../config/index.ts";
import type { EventBus } from "../core/events.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { VERSION } from "../version.ts";
import { connectBusToServer, createApp } from "../web/app.ts";
import { createMediaSigner } from "../web/media-url.ts";
import { createSocketRegistry } from "../web/socket-registry.ts";
import type { Check } from "./readiness.ts";
import type { TelegramSide } from "./telegram.ts";

export interface WebSide {
	/** The port listened on (the real one when the config says 0). */
	port: number;
	/** PUBLIC_URL, with that port when the config named port 0. */
	publicUrl: string;
	/** No new connections; open ones keep working meanwhile. */
	stopAccepting(): void;
	/** Closes the open sockets with 1001 ("going away") and the server. */
	close(): Promise<void>;
}

export function listenWeb(options: {
	config: Config;
	core: CoreDeps;
	appSecret: string;
	bus: EventBus;
	telegram: Pick<TelegramSide, "bot" | "webhook" | "setup" | "groupBudgetLeft">;
	readiness(): Promise<Record<string, Check>>;
	limiter: RateLimiter;
	metrics: Metrics;
	log: Logger;
}): WebSide {
	const { config, core, telegram, metrics } = options;
	// With PORT=0 (tests) the default public URL names port 0 until the real port is known.
	let publicUrl = config.publicUrl;
	const media = createMediaSigner({
		secret: options.appSecret,
		publicUrl: () => publicUrl,
		ttlMs: config.timers.mediaUrlTtl,
	});
	// The registry publishes pings through the server, which exists once the app listens.
	let publish = (_topic: string, _frame: string) => {};
	const sockets = createSocketRegistry({
		idleMs: config.timers.wsIdle,
		pingMs: config.timers.wsPing,
		publish: (topic, frame) => publish(topic, frame),
	});
	const app = createApp({
		config,
		core,
		log: options.log,
		texts: core.texts,
		bot: telegram.bot,
		media,
		sockets,
		limits: options.limiter,
		production: config.nodeEnv === "production",
		publicUrl: () => publicUrl,
		version: VERSION,
		metrics,
		readiness: options.readiness,
		telegramWebhook: telegram.webhook,
		setup: telegram.setup,
	});
	const unsubscribe = connectBusToServer(options.bus, app, media, sockets, metrics);
	metrics.attach({
		database: core.database,
		openSockets: () => sockets.count(),
		groupBudgetLeft: telegram.groupBudgetLeft,
		poolSize: core.database.kind === "postgres" ? 10 : 1,
	});
	app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: 64 * 1024 * 1024 });
	const port = app.server?.port ?? config.port;
	publicUrl = config.publicUrl.replace(/:0$/, `:${port}`);
	publish = (topic, frame) => app.server?.publish(topic, frame);
	return {
		port,
		publicUrl,
		stopAccepting: () => app.server?.stop(false),
		async close() {
			unsubscribe();
			sockets.stop();
			// Bun closes open sockets with 1001 ("going away") when the server stops.
			await app.stop(true);
		},
	};
}
