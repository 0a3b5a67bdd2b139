import type { CoreDeps } from "../core/unit-of-work.ts";
import type { Logger } from "../logger.ts";

/** What the web door needs from the composition root. */
export interface WebDeps {
	core: CoreDeps;
	log: Logger;
	production: boolean;
	/** Service version, for /health. */
	version: string;
	/** Readiness of the parts the web door does not own (database migrated, bot polling). */
	readiness(): Promise<Record<string, { ok: boolean; detail: string }>>;
}
