import type { Config } from "../config/index.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Texts } from "../i18n/texts.ts";
import type { Logger } from "../observability/logger.ts";
import type { BotProfile } from "../telegram/bot-profile.ts";
import type { MediaSigner } from "./media-url.ts";
import type { SocketRegistry } from "./socket-registry.ts";

/** What the web door needs from the composition root. */
export interface WebDeps {
	config: Config;
	core: CoreDeps;
	log: Logger;
	texts: Texts;
	/** The bot's profile and typing indicator (a disabled stand-in without BOT_TOKEN). */
	bot: BotProfile;
	/** Signs and checks media URLs. */
	media: MediaSigner;
	/** This instance's live sockets (cap per customer, idle cut-off, keep-alive pings). */
	sockets: SocketRegistry;
	production: boolean;
	/** PUBLIC_URL, with the real port once listening when the service was started on port 0. */
	publicUrl(): string;
	/** Per-instance rate limits (SPEC §4.5). */
	limits: RateLimiter;
	/** Service version, for /health. */
	version: string;
	/** Readiness of the parts the web door does not own (database migrated, bot polling). */
	readiness(): Promise<Record<string, { ok: boolean; detail: string }>>;
}
