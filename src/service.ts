/**
 * Builds and runs the whole service from a config: database, migrations, event bus, web door,
 * outbox worker, Telegram poller (or webhook). `src/index.ts` calls it once; tests call it with
 * their own database and Telegram double. Everything started here is stopped by `stop()`, in the
 * order DESIGN.md §4.8 gives: stop accepting, stop polling, drain workers, close sockets (1001),
 * close the database.
 */
import type { PGlite } from "@electric-sql/pglite";
import { claimDataDirChecked, serveControl } from "./cli/data-dir.ts";
import { dumpPglite } from "./cli/pglite-backup.ts";
import type { Config } from "./config/index.ts";
import { resolveAppSecret } from "./core/app-secret.ts";
import type { EventBus } from "./core/events.ts";
import { createMessageBatches } from "./core/messages.ts";
import { createRateLimiter, rateLimits } from "./core/rate-limiter.ts";
import type { CoreDeps } from "./core/unit-of-work.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { isMigrated, migrate } from "./db/migrate.ts";
import { createTexts } from "./i18n/texts.ts";
import { createRetentionJob } from "./jobs/retention.ts";
import { createTimerWorker } from "./jobs/timer-worker.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { createMetrics } from "./observability/metrics.ts";
import { createLocalBus } from "./realtime/local-bus.ts";
import { createPgBus } from "./realtime/pg-bus.ts";
import { type BotHealth, createBotHealth } from "./setup/bot-health.ts";
import { createSetupFlow, type SetupFlow } from "./setup/flow.ts";
import { readStoredBot, saveStoredBot } from "./setup/stored-bot.ts";
import { type BotProfile, disabledBotProfile } from "./telegram/bot-profile.ts";
import { createTelegramDoor, type TelegramDoor } from "./telegram/door.ts";
import type { OutboxWorker } from "./telegram/outbox-worker.ts";
import { VERSION } from "./version.ts";
import { connectBusToServer, createApp } from "./web/app.ts";
import { createMediaSigner } from "./web/media-url.ts";
import { createSocketRegistry } from "./web/socket-registry.ts";

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

export async function startService(
	config: Config,
	options: ServiceOptions = {},
): Promise<RunningService> {
	const log =
		options.log ??
		createLogger({
			level: config.logLevel,
			json: config.nodeEnv === "production",
			secrets: [config.botToken ?? "", config.appSecret ?? "", config.metricsToken ?? ""],
		});
	// The embedded database is one process's: claim DATA_DIR first (throws DataDirBusy).
	const ownsDataDir = !config.databaseUrl && !options.pglite;
	const releaseDataDir = ownsDataDir ? await claimDataDirChecked(config.dataDir) : () => {};
	const database = await openDatabase({
		databaseUrl: config.databaseUrl,
		dataDir: config.dataDir,
		pglite: options.pglite,
	}).catch((error: unknown) => {
		releaseDataDir();
		throw error;
	});
	const embedded = ownsDataDir ? database.pglite : undefined;
	// `topicdesk backup` asks this process for the copy: only it can take one consistently.
	const control = embedded
		? serveControl(config.dataDir, { backup: () => dumpPglite(embedded) })
		: undefined;
	const applied = await migrate(database);
	if (applied.length)
		log.info("database migrated", { event: "service.migrated", applied, kind: database.kind });

	const texts = createTexts(config.locale, config.texts);
	// With PORT=0 (tests) the default public URL names port 0 until the real port is known.
	let publicUrl = config.publicUrl;
	const appSecret = await resolveAppSecret(database, config.appSecret);
	const mediaSigner = createMediaSigner({
		secret: appSecret,
		publicUrl: () => publicUrl,
		ttlMs: config.timers.mediaUrlTtl,
	});
	let outboxWorker: OutboxWorker | undefined;
	// Several instances share a PostgreSQL, so events cross them; PGlite is one process.
	const bus: EventBus & { close?: () => Promise<void>; announceWork?: () => void } =
		database.pg && config.databaseUrl
			? await createPgBus({
					pg: database.pg,
					databaseUrl: config.databaseUrl,
					database,
					log,
					onRemoteNotice: () => outboxWorker?.wake(),
				})
			: createLocalBus();
	// "(alone)": no other instance listens, so events are not announced (pg-bus.ts).
	const eventsDetail = () =>
		"announcing" in bus
			? bus.announcing
				? "listen/notify"
				: "listen/notify (alone)"
			: "in-process";
	const metrics = createMetrics();
	// Counted where the core announces commits: once per message, on the instance that took it.
	const countingBus: EventBus = {
		publish(customerId, event) {
			if (event.type === "message" && event.message.author === "user")
				metrics.messageAccepted(event.message.channel);
			bus.publish(customerId, event);
		},
		subscribe: (listener) => bus.subscribe(listener),
	};
	const base: CoreDeps = {
		database,
		texts,
		policy: {
			slaReminders: config.timers.slaReminders,
			waitingReminder: config.timers.waitingReminder,
			waitingAutoclose: config.timers.waitingAutoclose,
			businessHours: config.businessHours,
		},
		bus: countingBus,
		// Another instance may be the sender of what was committed here (the group sender).
		wakeOutbox: () => {
			outboxWorker?.wake();
			bus.announceWork?.();
		},
		wakeTimers: () => timerWorker.wake(),
		handOff: {
			reserve: () => outboxWorker?.handOff.reserve() ?? null,
			giveBack: async (itemId) => outboxWorker?.handOff.giveBack(itemId),
		},
	};
	const core: CoreDeps = { ...base, messageBatches: createMessageBatches(base) };

	// One rate limiter for both doors (SPEC §4.5): each door spends its own kinds from it.
	const limiter = createRateLimiter({ ...rateLimits, ...config.rateLimits });
	let telegram: TelegramDoor | undefined;
	let botHealth: BotHealth | undefined;
	/** Builds the Telegram door for a bot (from the environment, the settings, or the setup page). */
	const createDoor = (token: string, groupId: number) => {
		log.redact?.(token);
		// The webhook itself is the receiver's business (its readiness says "webhook not set").
		const door = createTelegramDoor({
			config: { ...config, botToken: token, supportGroupId: groupId },
			core,
			database,
			log,
			metrics,
			limiter,
		});
		telegram = door;
		botHealth = createBotHealth({
			apiRoot: config.telegramApiUrl,
			token,
			groupId,
			log,
			// In webhook mode the bot's webhook is ours (registered in the background): only another
			// URL is a problem. In polling mode any webhook is, until the poller clears it.
			...(config.telegramMode === "webhook" && config.telegramWebhookUrl
				? { webhookUrl: config.telegramWebhookUrl }
				: {}),
			// The checks read the group with their own client; a 429 pause of the group holds for
			// them too, so that no call at all reaches the group before Telegram allows it again.
			fetch: (async (input, init) => {
				const paused = door.groupPausedFor();
				if (paused > 0) await Bun.sleep(paused);
				return fetch(input, init);
			}) as typeof fetch,
		});
		outboxWorker = telegram.outbox;
		return telegram;
	};
	const startDoor = (door: TelegramDoor) => {
		door.outbox.start();
		door.receiver.start();
		// Not awaited: a slow or unreachable Telegram must not delay serving the web chat.
		void botHealth?.checkAndLog();
	};
	let setup: SetupFlow | undefined;
	// Environment variables win over a bot stored by the setup page.
	const stored = config.botToken ? undefined : await readStoredBot(database, appSecret);
	if (config.botToken && config.supportGroupId !== undefined) {
		createDoor(config.botToken, config.supportGroupId);
	} else if (stored?.kind === "stored") {
		log.info("using the bot saved by the setup page", {
			event: "setup.stored_bot",
			groupId: stored.bot.groupId,
		});
		createDoor(stored.bot.token, stored.bot.groupId);
	} else if (stored?.kind === "unreadable") {
		log.error(
			"A bot was saved by the setup page, but its token does not decrypt with this APP_SECRET. Set APP_SECRET back to the one used then, or set BOT_TOKEN and SUPPORT_GROUP_ID.",
			{ event: "setup.stored_bot_unreadable" },
		);
	} else {
		log.warn(
			"Telegram bot disabled: BOT_TOKEN is not set. The web chat works; messages for Telegram wait in the outbox until a bot is configured.",
			{ event: "bot.disabled" },
		);
		setup = createSetupFlow({
			apiRoot: config.telegramApiUrl,
			dataDir: config.dataDir,
			log,
			async onSave(bot) {
				await saveStoredBot(database, appSecret, bot);
				startDoor(createDoor(bot.token, bot.groupId));
			},
		});
	}
	// The web door holds this profile from the start; it follows a bot started later by setup.
	const bot: BotProfile = {
		get enabled() {
			return telegram?.bot.enabled ?? false;
		},
		identity: () => (telegram?.bot ?? disabledBotProfile).identity(),
		avatar: () => (telegram?.bot ?? disabledBotProfile).avatar(),
		download: (fileId, range) => (telegram?.bot ?? disabledBotProfile).download(fileId, range),
		typing: (customerId) => telegram?.bot.typing(customerId),
	};

	const timerWorker = createTimerWorker(core, log);
	const retention = createRetentionJob({ database, policy: config.retention, log });

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
		log,
		texts,
		bot,
		media: mediaSigner,
		sockets,
		limits: limiter,
		production: config.nodeEnv === "production",
		publicUrl: () => publicUrl,
		version: VERSION,
		metrics,
		readiness: async () => ({
			// A probe must answer promptly even while postgres.js waits out its reconnect backoff.
			database: (await withTimeout(database.ping(), 3000, false))
				? (await isMigrated(database))
					? { ok: true, detail: database.kind }
					: { ok: false, detail: "not migrated" }
				: { ok: false, detail: "unreachable" },
			bot: await botReadiness(telegram?.receiver, botHealth),
			events: { ok: true, detail: eventsDetail() },
		}),
		// Asked per request: a door the setup page starts later in webhook mode is served at once.
		telegramWebhook: () =>
			telegram?.webhookSecret
				? { secret: telegram.webhookSecret, handle: telegram.handleUpdate }
				: undefined,
		setup: () => setup,
	});
	const unsubscribe = connectBusToServer(bus, app, mediaSigner, sockets, metrics);
	metrics.attach({
		database,
		openSockets: () => sockets.count(),
		groupBudgetLeft: () => telegram?.groupBudgetLeft(),
		poolSize: database.kind === "postgres" ? 10 : 1,
	});
	app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: 64 * 1024 * 1024 });
	const port = app.server?.port ?? config.port;
	publicUrl = config.publicUrl.replace(/:0$/, `:${port}`);
	publish = (topic, frame) => app.server?.publish(topic, frame);
	timerWorker.start();
	retention.start();
	if (telegram) startDoor(telegram);
	if (setup)
		log.warn(`Set up the bot: open ${publicUrl}/setup?code=${setup.code}`, {
			event: "setup.link",
		});
	log.info("topicdesk listening", {
		event: "service.listening",
		port,
		database: database.kind,
		bot: telegram ? config.telegramMode : "disabled",
	});

	let stopping: Promise<void> | undefined;
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		database,
		core,
		log,
		stop() {
			stopping ??= (async () => {
				app.server?.stop(false); // no new connections; open ones keep working meanwhile
				await setup?.stop();
				await telegram?.receiver.stop();
				await timerWorker.stop();
				await retention.stop();
				await outboxWorker?.stop();
				telegram?.abort();
				unsubscribe();
				await bus.close?.();
				sockets.stop();
				// Bun closes open sockets with 1001 ("going away") when the server stops.
				await app.stop(true);
				control?.stop();
				await database.close();
				releaseDataDir();
			})();
			return stopping;
		},
	};
}

/**
 * The receiver's state first ("not polling" says more than a check could), then the first
 * failing bot check: `cannot manage topics in Support`.
 */
async function botReadiness(
	receiver: TelegramDoor["receiver"] | undefined,
	health: BotHealth | undefined,
): Promise<{ ok: boolean; detail: string }> {
	if (!receiver) return { ok: true, detail: "disabled" };
	const status = receiver.status();
	if (!status.ok || !health) return status;
	const report = await withTimeout(health.current(), 3000, undefined);
	if (report && !report.ok) return { ok: false, detail: report.problem ?? "bot checks failed" };
	return status;
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	return Promise.race([
		promise,
		new Promise<T>((resolve) => {
			timer = setTimeout(() => resolve(fallback), ms);
		}),
	]).finally(() => clearTimeout(timer));
}
