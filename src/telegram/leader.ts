/**
 * One poller per bot token across instances: Telegram answers a second concurrent
 * getUpdates with 409, so the instances sharing a PostgreSQL elect one poller with a session
 * advisory lock. The lock lives on a connection of its own; when the leader dies (even kill -9)
 * its connection drops, PostgreSQL releases the lock, and a standby, retrying every 2 s, takes
 * over. The leader checks every 2 s that it still holds the lock (a reconnected connection is a
 * new session without it) and stops polling as soon as it cannot tell.
 *
 * The lock connection is a dedicated postgres.js client rather than `pg.reserve()`: a reserved
 * connection whose server session ends throws from a timer (uncaught) and then hangs every later
 * query, while a one-connection client fails the query and reconnects cleanly.
 */
import postgres from "postgres";
import type { Logger } from "../observability/logger.ts";
import type { Poller } from "./poller.ts";
import { retryLoop } from "./retry-loop.ts";

/** A mutual-exclusion lock shared by every instance of one bot. */
export interface LeaderLock {
	/** Tries to take the lock without waiting; true when this instance holds it now. */
	acquire(): Promise<boolean>;
	/** Whether this instance still holds the lock (false once its session ended). */
	held(): Promise<boolean>;
	/** Releases the lock and closes what it holds open. */
	release(): Promise<void>;
}

/** Embedded PGlite is one process: it is always the leader. */
export const soleInstance: LeaderLock = {
	acquire: async () => true,
	held: async () => true,
	release: async () => {},
};

/**
 * The advisory lock key of a bot's poller: a namespace in the high bits ("td") and the bot id
 * (from the token, below 2^48) in the low bits, so bots sharing a database never share a key.
 *
 * @example pollerLockKey(123456) // 0x7464_0000_0001_e240n
 */
export function pollerLockKey(botId: number): bigint {
	return (0x7464n << 48n) | BigInt(botId);
}

/**
 * A PostgreSQL session advisory lock on a dedicated connection. `held()` asks `pg_locks` only
 * every `recheckMs` (default 30 s): in between, the lock is held as long as the session that
 * took it has not closed (postgres.js reports every closed connection, and a reconnected one is
 * a new session without the lock), so an idle leader does not query twice a second.
 */
export function advisoryLock(options: {
	url: string;
	key: bigint;
	recheckMs?: number;
}): LeaderLock {
	const recheckMs = options.recheckMs ?? 30_000;
	/** When the session that holds the lock was last confirmed (0: not held or closed since). */
	let confirmedAt = 0;
	const client = postgres(options.url, {
		max: 1,
		// The session is the lock: it must never be recycled while held.
		idle_timeout: 0,
		max_lifetime: null,
		connect_timeout: 5,
		onnotice: () => {},
		onclose: () => {
			confirmedAt = 0;
		},
		connection: { application_name: "topicdesk-poller-lock" },
	});
	const key = options.key.toString();
	// pg_locks shows a bigint key as two 32-bit halves (objsubid 1).
	const high = Number(options.key >> 32n);
	const low = Number(options.key & 0xffff_ffffn);
	return {
		async acquire() {
			const [row] = await client<
				{ got: boolean }[]
			>`select pg_try_advisory_lock(${key}::bigint) as got`;
			confirmedAt = row?.got === true ? Date.now() : 0;
			return row?.got === true;
		},
		async held() {
			if (confirmedAt > 0 && Date.now() - confirmedAt < recheckMs) return true;
			const [row] = await client<{ held: boolean }[]>`
				select exists (
					select 1 from pg_locks
					where locktype = 'advisory' and pid = pg_backend_pid() and granted
						and classid::bigint = ${high} and objid::bigint = ${low} and objsubid = 1
				) as held`;
			confirmedAt = row?.held === true ? Date.now() : 0;
			return row?.held === true;
		},
		async release() {
			confirmedAt = 0;
			try {
				await client`select pg_advisory_unlock(${key}::bigint)`;
			} catch {
				// Closing the session below releases it as well.
			} finally {
				await client.end({ timeout: 1 });
			}
		},
	};
}

export interface PollingLeader {
	start(): void;
	/** Stops polling, then releases the lock. */
	stop(): Promise<void>;
	/** Readiness: "polling" (leader), "standby" (another instance polls), "not polling" (failing). */
	status(): { ok: boolean; detail: string };
}

export interface PollingLeaderOptions {
	lock: LeaderLock;
	/** A fresh poller each time this instance is elected (a stopped poller cannot restart). */
	createPoller: () => Poller;
	log: Logger;
	/** Pause between lock attempts and between checks of a held lock. Default 2 s. */
	retryMs?: number;
}

export function createPollingLeader(options: PollingLeaderOptions): PollingLeader {
	const { lock, log } = options;
	const retryMs = options.retryMs ?? 2000;
	const abort = new AbortController();
	let poller: Poller | undefined;
	let loop: Promise<void> | undefined;

	const standDown = async (reason: string, error?: unknown) => {
		log.warn("polling stopped: the polling lock is not held", {
			reason,
			...(error === undefined ? {} : { error: String(error) }),
		});
		const stopping = poller;
		poller = undefined;
		await stopping?.stop();
	};

	async function run() {
		await retryLoop(abort.signal, async () => {
			try {
				if (!poller) {
					if ((await lock.acquire()) && !abort.signal.aborted) {
						poller = options.createPoller();
						poller.start();
						log.info("elected to poll Telegram");
					}
				} else if (!(await lock.held())) await standDown("lock lost");
			} catch (error) {
				// The lock's connection failed: its session, and with it the lock, may be gone, and
				// another instance may be polling already.
				if (poller) await standDown("lock connection failed", error);
				else log.debug("polling lock not available", { error: String(error) });
			}
			return retryMs;
		});
		await poller?.stop();
		poller = undefined;
		await lock
			.release()
			.catch((error: unknown) => log.warn("polling lock release failed", { error: String(error) }));
	}

	return {
		start() {
			loop ??= run();
		},
		async stop() {
			abort.abort();
			await (loop ?? lock.release());
		},
		status() {
			if (!poller) return { ok: true, detail: "standby" };
			return poller.healthy()
				? { ok: true, detail: "polling" }
				: { ok: false, detail: "not polling" };
		},
	};
}
