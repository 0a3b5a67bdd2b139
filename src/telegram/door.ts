/**
 * The Telegram door, assembled: the GramIO client, what the outbox worker needs to deliver
 * (a handler for every kind of item, the flood budget, the group sender lock), the update router
 * with what feeds it (the elected long poller, or the webhook registration), and the bot's
 * profile for the web door.
 */
import type { Config } from "../config/index.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import { groupKey } from "../core/support-groups.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Database } from "../db/client.ts";
import { createTexts, type Locale, type Texts } from "../i18n/texts.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { OutboxHandler } from "../outbox/delivery.ts";
import { createFloodBudget, groupKeyOf } from "../outbox/flood-budget.ts";
import type { OutboxKind } from "../outbox/items.ts";
import type { OutboxDeliveries } from "../outbox/options.ts";
import { groupSenderLockKey } from "../outbox/sender-lock.ts";
import { classifyFailure, createBotClient } from "./bot-api.ts";
import { type BotProfile, createBotProfile } from "./bot-profile.ts";
import { cardHandler, cardPinHandler, topicRenameHandler } from "./deliver-card.ts";
import {
	type DmDeps,
	dmDigestHandler,
	dmEditHandler,
	dmMessageHandler,
	dmTextHandler,
	topicEditHandler,
} from "./deliver-dm.ts";
import { slaReminderHandler } from "./deliver-sla.ts";
import { topicMessageHandler } from "./deliver-topic-message.ts";
import {
	groupNoticeHandler,
	topicNoticeHandler,
	topicTextHandler,
} from "./deliver-topic-notice.ts";
import { createEraseHandler } from "./erase.ts";
import { classifyWithGroups, groupDeliveries, groupWatch } from "./group-deliveries.ts";
import { type GroupRegistry, meansGroupLost } from "./group-registry.ts";
import { advisoryLock, createPollingLeader, pollerLockKey, soleInstance } from "./leader.ts";
import { createPoller } from "./poller.ts";
import { createUpdateRouter } from "./updates.ts";
import { createWebhookRegistration } from "./webhook.ts";

/** Whatever brings updates in: the poller elected among instances, or the webhook registration. */
export interface UpdateReceiver {
	start(): void;
	stop(): Promise<void>;
	/** Readiness of the bot: "polling", "standby", "not polling", "webhook", "webhook not set". */
	status(): { ok: boolean; detail: string };
}

export interface TelegramDoor {
	bot: BotProfile;
	/** What the outbox worker delivers with (the composition root builds the worker). */
	deliveries: OutboxDeliveries;
	receiver: UpdateReceiver;
	/** Webhook mode: the secret Telegram must present with each update. */
	webhookSecret?: string;
	/** Applies one update (the poller's and the webhook's entry point). */
	handleUpdate: ReturnType<typeof createUpdateRouter>;
	/** Aborts every Bot API call in flight (shutdown). */
	abort(): void;
	/** Calls the support group's flood budget allows now (metrics). */
	groupBudgetLeft(): number;
	/** Milliseconds the support group stays paused by a 429 (0 when it is not). */
	groupPausedFor(): number;
}

export function createTelegramDoor(options: {
	config: Config & { botToken: string; supportGroupId: number };
	/** The support groups (the default first) and which of them the bot can still write to. */
	groups: GroupRegistry;
	core: CoreDeps;
	database: Database;
	log: Logger;
	metrics?: Metrics;
	/** The limiter the web door uses too (one per instance); the DM flood guard spends from it. */
	limiter: RateLimiter;
	/** Writes the outbox's deferred finishes (the copies an update may refer to). */
	settleOutbox: () => Promise<void>;
}): TelegramDoor {
	const { config, core, database, log, metrics, groups } = options;
	const groupIds = () => groups.ids();
	const budget = createFloodBudget({
		groupPerWindow: config.outbox.groupPerMinute,
		groupWindowMs: config.outbox.groupWindowMs,
		privatePerSecond: config.outbox.privatePerSecond,
		globalPerSecond: config.outbox.globalPerSecond,
	});
	const client = createBotClient({
		token: config.botToken,
		apiRoot: config.telegramApiUrl,
		budget: { budget, groups: groupIds },
		...(metrics ? { metrics } : {}),
		log,
	});
	const texts = core.texts;
	const catalogue = new Map<Locale, Texts>();
	const textsFor = (locale: string | null): Texts => {
		const chosen: Locale = locale === "ru" || locale === "en" ? locale : config.locale;
		const found = catalogue.get(chosen) ?? createTexts(chosen, config.texts);
		catalogue.set(chosen, found);
		return found;
	};
	const deps: DmDeps = {
		database,
		api: client.api,
		groupId: config.supportGroupId,
		budgetKey: "group",
		groupIds,
		texts,
		timeZone: config.displayTimezone,
		core,
		pin: config.card.pin,
		textsFor,
		budget,
	};
	// Each group's handlers write to it alone, with its own flood budget.
	const perGroup = new Map<string, Record<OutboxKind, OutboxHandler>>();
	const handlersFor = (groupId: number) => {
		const ids = groupIds();
		const key = `${groupId}:${ids[0]}`;
		const found =
			perGroup.get(key) ?? handlersOf({ ...deps, groupId, budgetKey: groupKeyOf(ids, groupId) });
		perGroup.set(key, found);
		return found;
	};
	const classify = classifyWithGroups(classifyFailure);
	const deliveries: OutboxDeliveries = {
		handlers: groupDeliveries({
			core,
			groups,
			classify: classifyFailure,
			log,
			handlersFor,
			probe: async (groupId) => {
				try {
					await client.api.getChat({ chat_id: groupId });
					return undefined;
				} catch (error) {
					const failure = classifyFailure(error);
					const lost =
						failure.kind === "permanent" && meansGroupLost(failure.code, failure.description);
					return lost ? failure.description : undefined;
				}
			},
		}),
		// Each group's heads are claimed within its own budget (a lost group's too: they end dead).
		groups: () => {
			const ids = groupIds();
			return ids.map((id) => ({ key: groupKey(ids, id), budget: groupKeyOf(ids, id) }));
		},
		classifyFailure: classify,
		budget,
		abortCalls: client.abort,
		// Instances sharing a PostgreSQL: one sends group work at a time, so the group's budget
		// (kept in that instance's memory) is the whole group's.
		...(database.kind === "postgres" && config.databaseUrl
			? {
					groupLock: advisoryLock({
						url: config.databaseUrl,
						key: groupSenderLockKey(client.botId),
					}),
				}
			: {}),
		// An operator's reply reaches a Telegram customer as the dm_message item.
		onDelivered: (kind) => {
			if (kind === "dm_message") metrics?.operatorReplyDelivered("telegram");
		},
	};
	const route = createUpdateRouter({
		core,
		api: client.api,
		groupId: config.supportGroupId,
		groupKey: 0,
		groups,
		botId: client.botId,
		defaultLocale: config.locale,
		texts,
		textsFor,
		timeZone: config.displayTimezone,
		limiter: options.limiter,
		log,
	});
	const erase = createEraseHandler({
		core,
		api: client.api,
		groupId: config.supportGroupId,
		groupKey: 0,
		groups,
		botId: client.botId,
		texts,
		log,
	});
	// Updates tell when the bot leaves or rejoins a support group (an operator's /retry there).
	const watch = groupWatch({ core, groups, log });
	const handleUpdate: typeof route = async (update) => {
		// An operator may answer a copy this instance delivered a moment ago, whose finish (and
		// with it the copy's Telegram id) may still be deferred.
		await options.settleOutbox();
		await watch.onUpdate(update);
		try {
			if (!(await erase(update))) await route(update);
		} catch (error) {
			metrics?.updateFailed();
			throw error;
		}
		const dated = update.message ?? update.edited_message ?? update.callback_query?.message;
		const at = dated && "date" in dated && dated.date ? dated.date : undefined;
		metrics?.updateApplied(at ? Date.now() / 1000 - at : undefined);
	};
	const webhook =
		config.telegramMode === "webhook" && config.telegramWebhookUrl && config.telegramWebhookSecret
			? { url: config.telegramWebhookUrl, secret: config.telegramWebhookSecret }
			: undefined;
	const receiver: UpdateReceiver = webhook
		? createWebhookRegistration({ api: client.api, ...webhook, log })
		: createPollingLeader({
				// Instances sharing a PostgreSQL elect one poller; embedded PGlite is one process.
				lock:
					database.kind === "postgres" && config.databaseUrl
						? advisoryLock({ url: config.databaseUrl, key: pollerLockKey(client.botId) })
						: soleInstance,
				createPoller: () =>
					createPoller({
						timeoutSeconds: Math.max(1, Math.round(config.timers.pollTimeout / 1000)),
						log,
						handle: handleUpdate,
						call: client.call,
						onCall: (method, result) => {
							metrics?.telegramCall(method, result);
							log.debug("telegram call", { event: "telegram.call", method, result });
						},
					}),
				log,
			});
	const bot = createBotProfile({
		client,
		apiRoot: config.telegramApiUrl,
		token: config.botToken,
		database,
		groups: groupIds,
		log,
		budget,
	});
	return {
		bot,
		deliveries,
		receiver,
		...(webhook ? { webhookSecret: webhook.secret } : {}),
		handleUpdate,
		abort: client.abort,
		groupBudgetLeft: () => budget.available("group"),
		groupPausedFor: () => budget.pausedFor("group"),
	};
}

/** The handlers of every item kind, writing to the group `deps` names. */
function handlersOf(deps: DmDeps): Record<OutboxKind, OutboxHandler> {
	return {
		topic_message: topicMessageHandler(deps),
		topic_notice: topicNoticeHandler(deps),
		topic_text: topicTextHandler(deps),
		topic_edit: topicEditHandler(deps),
		topic_rename: topicRenameHandler(deps),
		card: cardHandler(deps),
		card_pin: cardPinHandler(deps),
		dm_text: dmTextHandler(deps),
		dm_message: dmMessageHandler(deps),
		dm_edit: dmEditHandler(deps),
		dm_digest: dmDigestHandler(deps),
		sla_reminder: slaReminderHandler(deps),
		group_notice: groupNoticeHandler(deps),
		group_text: groupNoticeHandler(deps),
	};
}
