/**
 * The Telegram side of the service: which bot runs (the environment's, the one the setup page
 * saved, or none yet and the setup page open), its door (outbox worker, poller or webhook, the
 * polling leader), the bot checks behind readiness, and the bot's profile as the web door sees it.
 */
import type { Config } from "../config/index.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import { adoptDefaultGroup } from "../core/support-groups.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { createOutboxWorker, type OutboxWorker } from "../outbox/worker.ts";
import { type BotHealth, createBotHealth } from "../setup/bot-health.ts";
import { GROUP_CHECKS } from "../setup/checks.ts";
import { type FirstRun, openFirstRun } from "../setup/first-run.ts";
import type { SetupFlow } from "../setup/flow.ts";
import { readStoredBot, type StoredBot } from "../setup/stored-bot.ts";
import { type BotProfile, disabledBotProfile } from "../telegram/bot-profile.ts";
import { createTelegramDoor, type TelegramDoor } from "../telegram/door.ts";
import type { GroupRegistry } from "../telegram/group-registry.ts";
import type { TelegramWebhook } from "../web/webhook-routes.ts";
import type { Wakers } from "./core.ts";
import { type Check, withTimeout } from "./readiness.ts";

export interface TelegramSide {
	/** Held by the web door from the start; follows a bot the setup page starts later. */
	bot: BotProfile;
	/** The receiver's state ("not polling" says more than a check could), then the bot checks. */
	readiness(): Promise<Check>;
	/**
	 * The support groups the bot writes to: not ok only when it can write to none; "degraded: …"
	 * names the groups it lost while others still work. Undefined while no bot runs.
	 */
	groupsCheck(): Check | undefined;
	/** Webhook mode: Telegram's entry point, asked per request (a bot saved later is served). */
	webhook(): TelegramWebhook | undefined;
	/** The first-run setup while no bot is configured. */
	setup(): SetupFlow | undefined;
	groupBudgetLeft(): number | undefined;
	/** "polling", "webhook" or "disabled", for the startup line. */
	mode(): string;
	/** Starts delivering and receiving (once the web door listens), or logs the setup link. */
	start(publicUrl: string): void;
	/** Stops the poller (or the setup page's) and with it new updates. */
	stopReceiving(): Promise<void>;
	/** Drains the outbox worker, then aborts whatever Bot API call is still in flight. */
	stopSending(): Promise<void>;
}

export interface TelegramSideOptions {
	config: Config;
	core: CoreDeps;
	database: Database;
	appSecret: string;
	log: Logger;
	metrics: Metrics;
	/** The limiter the web door spends from too (one per instance). */
	limiter: RateLimiter;
	/** The door's outbox worker is set here for the core to wake. */
	wakers: Wakers;
	/** The support groups: set to the running bot's, and which of them it can write to. */
	groups: GroupRegistry;
}

/** A configured bot: its door, and the checks that tell whether it can do its work. */
interface RunningBot {
	door: TelegramDoor;
	/** Delivers the outbox with the door's handlers; built here, as the outbox imports no door. */
	outbox: OutboxWorker;
	health: BotHealth;
}

export async function openTelegramSide(options: TelegramSideOptions): Promise<TelegramSide> {
	const { config, database, appSecret, log } = options;
	let running: RunningBot | undefined;
	let firstRun: FirstRun | undefined;
	/** Set by start(): a bot saved before it is started by it, one saved after at once. */
	let live = false;
	const connect = (bot: StoredBot) => {
		running = openDoor(options, bot);
		options.wakers.outbox = running.outbox;
		return running;
	};
	const run = ({ door, outbox, health }: RunningBot) => {
		outbox.start();
		door.receiver.start();
		// Not awaited: a slow or unreachable Telegram must not delay serving the web chat.
		void health.checkAndLog();
	};
	const chosen = await chooseBot(config, database, appSecret, log);
	if (chosen === "none")
		firstRun = await openFirstRun({
			apiRoot: config.telegramApiUrl,
			dataDir: config.dataDir,
			database,
			appSecret,
			log,
			onBot(bot) {
				void adoptDefaultGroup(database, bot.groupId).catch((error: unknown) =>
					log.warn("default group not adopted", { error: String(error) }),
				);
				const started = connect(bot);
				if (live) run(started);
			},
		});
	else if (chosen !== "unreadable") {
		await adoptDefaultGroup(database, chosen.groupId);
		connect(chosen);
	}
	const profile = () => running?.door.bot ?? disabledBotProfile;
	return {
		bot: {
			get enabled() {
				return profile().enabled;
			},
			identity: () => profile().identity(),
			avatar: () => profile().avatar(),
			download: (fileId, range) => profile().download(fileId, range),
			typing: (customerId) => profile().typing(customerId),
		},
		async readiness() {
			if (!running) return { ok: true, detail: "disabled" };
			const status = running.door.receiver.status();
			if (!status.ok) return status;
			const report = await withTimeout(running.health.current(), 3000, undefined);
			const failed = report?.results.find((result) => !result.ok && !result.warning);
			// The checks read the default group: while another group takes the work, its failure
			// is the groups check's "degraded", not a desk that is down.
			const elsewhere = options.groups.open().some((id) => id !== options.groups.ids()[0]);
			if (report && !report.ok && !(failed && GROUP_CHECKS.has(failed.id) && elsewhere))
				return { ok: false, detail: report.problem ?? "bot checks failed" };
			return status;
		},
		groupsCheck() {
			if (!running) return undefined;
			const { groups } = options;
			const lost = groups.lost();
			const named = lost.map(({ groupId, reason }) => `${groupId} (${reason})`).join(", ");
			if (groups.open().length === 0)
				return { ok: false, detail: `no support group writable: ${named}` };
			if (lost.length > 0)
				return {
					ok: true,
					detail: `degraded: ${lost.length} of ${groups.ids().length} unreachable: ${named}`,
				};
			return { ok: true, detail: `${groups.ids().length} writable` };
		},
		webhook() {
			const door = running?.door;
			return door?.webhookSecret
				? { secret: door.webhookSecret, handle: door.handleUpdate }
				: undefined;
		},
		setup: () => firstRun?.flow,
		groupBudgetLeft: () => running?.door.groupBudgetLeft(),
		mode: () => (running ? config.telegramMode : "disabled"),
		start(publicUrl) {
			live = true;
			if (running) run(running);
			else firstRun?.announce(publicUrl);
		},
		async stopReceiving() {
			await firstRun?.stop();
			await running?.door.receiver.stop();
		},
		async stopSending() {
			await running?.outbox.stop();
			running?.door.abort();
		},
	};
}

/**
 * The bot to run: the environment's wins over one the setup page saved. "none" opens the setup
 * page; "unreadable" (saved under another APP_SECRET) is logged with the way out, and runs none.
 */
async function chooseBot(
	config: Config,
	database: Database,
	appSecret: string,
	log: Logger,
): Promise<StoredBot | "unreadable" | "none"> {
	if (config.botToken && config.supportGroupId !== undefined)
		return {
			token: config.botToken,
			groupId: config.supportGroupId,
			moreGroupIds: config.supportGroupIds.slice(1),
		};
	const stored = config.botToken ? undefined : await readStoredBot(database, appSecret);
	if (stored?.kind === "stored") {
		log.info("using the bot saved by the setup page", {
			event: "setup.stored_bot",
			groupId: stored.bot.groupId,
		});
		return stored.bot;
	}
	if (stored?.kind === "unreadable") {
		log.error(
			"A bot was saved by the setup page, but its token does not decrypt with this APP_SECRET (or, on the embedded database, with DATA_DIR/app-secret): the key it was sealed with is not here, as after restoring a backup without it. Put that APP_SECRET or app-secret file back; or set BOT_TOKEN and SUPPORT_GROUP_ID; or run the setup again after: delete from settings where key like 'setup.%'.",
			{ event: "setup.stored_bot_unreadable" },
		);
		return "unreadable";
	}
	log.warn(
		"Telegram bot disabled: BOT_TOKEN is not set. The web chat works; messages for Telegram wait in the outbox until a bot is configured.",
		{ event: "bot.disabled" },
	);
	return "none";
}

/**
 * Builds the Telegram door for a bot, not started yet. Setting the webhook is the receiver's
 * business once started (its readiness says "webhook not set" when that failed).
 */
function openDoor(options: TelegramSideOptions, bot: StoredBot): RunningBot {
	const { config, log } = options;
	log.redact?.(bot.token);
	// The environment's groups, or the setup page's: the bot's own group first.
	options.groups.use([bot.groupId, ...(bot.moreGroupIds ?? [])]);
	const door = createTelegramDoor({
		config: { ...config, botToken: bot.token, supportGroupId: bot.groupId },
		groups: options.groups,
		core: options.core,
		database: options.database,
		log,
		metrics: options.metrics,
		limiter: options.limiter,
		settleOutbox: async () => outbox.settle(),
	});
	const outbox = createOutboxWorker({
		database: options.database,
		log,
		...door.deliveries,
		...(config.outbox.leaseMs ? { leaseMs: config.outbox.leaseMs } : {}),
	});
	const health = createBotHealth({
		apiRoot: config.telegramApiUrl,
		token: bot.token,
		groupId: bot.groupId,
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
	return { door, outbox, health };
}
