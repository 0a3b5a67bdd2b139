import type { Config } from "../config/index.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Texts } from "../i18n/texts.ts";
import type { Logger } from "../observability/logger.ts";
import type { MediaSigner } from "./media-url.ts";
import type { SocketRegistry } from "./socket-registry.ts";

/**
 * What the web door asks of the bot directly, not through the outbox: its public profile for the
 * widget, Telegram files for the media proxy, and "typing…" in the customer's topic. The Telegram
 * door's bot profile is one; without BOT_TOKEN a stand-in answers null.
 */
export interface WebBot {
	/** False when no bot is configured. */
	enabled: boolean;
	/** The bot's name and username; null when the bot is disabled or unreachable. */
	identity(): Promise<{ name: string; username: string } | null>;
	/** The bot's profile photo; null when it has none. */
	avatar(): Promise<{ bytes: Uint8Array; type: string } | null>;
	/** A Telegram file, with a Range passed through; null when the bot cannot fetch it. */
	download(fileId: string, range: string | null): Promise<Response | null>;
	/** Shows "typing…" in the customer's topic; best effort, never throws. */
	typing(customerId: string): void;
}

/** What the web door needs from the composition root. */
export interface WebDeps {
	config: Config;
	core: CoreDeps;
	log: Logger;
	texts: Texts;
	/** The bot's profile and typing indicator (a disabled stand-in without BOT_TOKEN). */
	bot: WebBot;
	/** Signs and checks media URLs. */
	media: MediaSigner;
	/** This instance's live sockets (cap per customer, idle cut-off, keep-alive pings). */
	sockets: SocketRegistry;
	production: boolean;
	/** PUBLIC_URL, with the real port once listening when the service was started on port 0. */
	publicUrl(): string;
	/** Per-instance rate limits. */
	limits: RateLimiter;
	/** Service version, for /health. */
	version: string;
	/** Readiness of the parts the web door does not own (database migrated, bot polling). */
	readiness(): Promise<Record<string, { ok: boolean; detail: string }>>;
}
