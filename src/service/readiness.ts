/**
 * What `/health/ready` reports of the parts the web door does not own: the database (reachable
 * and migrated), the bot, and how events travel between instances.
 */
import type { Database } from "../db/client.ts";
import { isMigrated } from "../db/migrate.ts";

export interface Check {
	ok: boolean;
	detail: string;
}

export function createReadiness(parts: {
	database: Database;
	bot: () => Promise<Check>;
	/** The support groups (absent while no bot runs). */
	groups?: () => Check | undefined;
	events: () => string;
}): () => Promise<Record<string, Check>> {
	const { database } = parts;
	return async () => {
		const groups = parts.groups?.();
		return {
			// A probe must answer promptly even while postgres.js waits out its reconnect backoff.
			database: (await withTimeout(database.ping(), 3000, false))
				? (await isMigrated(database))
					? { ok: true, detail: database.kind }
					: { ok: false, detail: "not migrated" }
				: { ok: false, detail: "unreachable" },
			bot: await parts.bot(),
			...(groups ? { groups } : {}),
			events: { ok: true, detail: parts.events() },
		};
	};
}

/** `promise`, or `fallback` once `ms` have passed without it settling. */
export function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	return Promise.race([
		promise,
		new Promise<T>((resolve) => {
			timer = setTimeout(() => resolve(fallback), ms);
		}),
	]).finally(() => clearTimeout(timer));
}
