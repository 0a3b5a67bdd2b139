/**
 * Retention: prunes bookkeeping rows older than `retention.bookkeeping` (processed
 * update ids, delivered outbox items, used or expired link tokens, expired entry contexts, updates
 * set aside as failed) and,
 * when `retention.media` is set, deletes the bytes of older files, leaving the media row as a
 * "file expired" stub that history shows as such.
 *
 * Once per interval across all instances: each instance ticks, and a run is claimed by moving a
 * `settings` row's timestamp forward only if the previous run is at least an interval old, in one
 * statement. Whoever's update changed the row runs; the others find nothing to claim.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";

const CLAIM_KEY = "retention.last_run";

export interface RetentionPolicy {
	bookkeepingMs: number;
	mediaMs?: number;
	intervalMs: number;
}

export interface RetentionResult {
	processedUpdates: number;
	outboxItems: number;
	linkTokens: number;
	entryContexts: number;
	failedUpdates: number;
	expiredMedia: number;
}

export interface RetentionJob {
	start(): void;
	stop(): Promise<void>;
}

/** Runs one pruning pass now (no claim): the job's body, also for tests and tools. */
export async function pruneOnce(
	database: Database,
	policy: RetentionPolicy,
): Promise<RetentionResult> {
	const keep = sql`now() - ${policy.bookkeepingMs}::float8 * interval '1 millisecond'`;
	const count = async (statement: ReturnType<typeof sql>) =>
		(
			await database.query<{ n: number }>(sql`with gone as (${statement} returning 1)
			select count(*)::int as n from gone`)
		)[0]?.n ?? 0;
	const result: RetentionResult = {
		processedUpdates: await count(sql`delete from processed_updates where processed_at < ${keep}`),
		outboxItems: await count(sql`delete from outbox where state = 'done' and done_at < ${keep}`),
		linkTokens: await count(
			sql`delete from link_tokens where (used_at is not null and used_at < ${keep})
				or expires_at < ${keep}`,
		),
		entryContexts: await count(sql`delete from entry_contexts where expires_at < ${keep}`),
		// Set-aside updates are kept for inspection, but they hold what people wrote.
		failedUpdates: await count(sql`delete from failed_updates where failed_at < ${keep}`),
		expiredMedia: 0,
	};
	if (policy.mediaMs !== undefined) {
		result.expiredMedia = await count(
			sql`update media set bytes = null, telegram_file_id = null, expired_at = now()
				where expired_at is null
				and created_at < now() - ${policy.mediaMs}::float8 * interval '1 millisecond'`,
		);
	}
	return result;
}

/** Claims this interval's run for this instance; true when it is ours to do. */
async function claim(database: Database, intervalMs: number): Promise<boolean> {
	const rows = await database.query<{ key: string }>(
		sql`insert into settings (key, value, updated_at) values (${CLAIM_KEY}, 'claimed', now())
			on conflict (key) do update set updated_at = now()
			where settings.updated_at <= now() - ${intervalMs}::float8 * interval '1 millisecond'
			returning key`,
	);
	return rows.length > 0;
}

export function createRetentionJob(options: {
	database: Database;
	policy: RetentionPolicy;
	log: Logger;
}): RetentionJob {
	const { database, policy, log } = options;
	// Checking is one cheap statement; a run starts at most one check period late.
	const checkEveryMs = Math.max(100, Math.min(60_000, Math.floor(policy.intervalMs / 4)));
	let timer: ReturnType<typeof setInterval> | undefined;
	let inFlight: Promise<void> | undefined;
	const tick = async () => {
		try {
			if (!(await claim(database, policy.intervalMs))) return;
			const result = await pruneOnce(database, policy);
			log.info("retention pass", { event: "retention.pruned", ...result });
		} catch (error) {
			log.warn("retention pass failed; retried next interval", {
				event: "retention.failed",
				error: String(error),
			});
		}
	};
	return {
		start() {
			timer ??= setInterval(() => {
				inFlight ??= tick().finally(() => {
					inFlight = undefined;
				});
			}, checkEveryMs);
		},
		async stop() {
			if (timer) clearInterval(timer);
			timer = undefined;
			await inFlight;
		},
	};
}
