import type { Config } from "../config.ts";
import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Logger } from "../logger.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { SocketRegistry } from "./socket-registry.ts";

/** What the web door needs from the composition root. */
export interface WebDeps {
	config: Config;
	core: CoreDeps;
	log: Logger;
	/** This instance's live sockets (cap per customer, idle cut-off, keep-alive pings). */
	sockets: SocketRegistry;
	production: boolean;
	/** Per-instance rate limits (SPEC §4.5). */
	limits: RateLimiter;
	/** Service version, for /health. */
	version: string;
	/** Readiness of the parts the web door does not own (database migrated, bot polling). */
	readiness(): Promise<Record<string, { ok: boolean; detail: string }>>;
}
