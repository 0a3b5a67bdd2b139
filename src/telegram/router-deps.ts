import type { RateLimiter } from "../core/rate-limiter.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Locale, Texts } from "../i18n/texts.ts";
import type { Logger } from "../observability/logger.ts";
import type { BotApi } from "./bot-api.ts";
import type { GroupScoped } from "./update-group.ts";

/** What the Telegram door's update handlers need. */
export interface RouterDeps extends GroupScoped {
	core: CoreDeps;
	api: BotApi;
	botId: number;
	defaultLocale: Locale;
	/** The desk's texts (operators' language). */
	texts: Texts;
	textsFor(locale: string | null): Texts;
	timeZone: string;
	/** The 20-per-minute guard on each customer's private-chat messages. */
	limiter: RateLimiter;
	log: Logger;
}

/** Calls made after the update's transaction committed: ephemeral answers (callback toasts). */
export type AfterCommit = (() => Promise<unknown>)[];
