/**
 * The web door's quotas, one set per app: new sessions and new conversations per
 * client IP per day, uploads (bytes stored, uploads at once) and media downloads. Over a quota:
 * 429 `QUOTA_EXCEEDED` (413 `FILE_TOO_LARGE` for a file bigger than the whole quota), checked
 * before anything is stored.
 */

import { clientKey, networkKey } from "../core/client-key.ts";
import { AppError } from "../core/errors.ts";
import {
	type Quotas,
	quotaExceeded,
	resolveQuotas,
	spendDaily,
	storedUploadBytes,
} from "../core/quotas.ts";
import { findSession } from "../core/sessions.ts";
import type { Database } from "../db/client.ts";

export interface UploadSlot extends Disposable {
	/** Reserves the bytes of a file about to be stored; throws when they do not fit. */
	reserve(bytes: number): Promise<void>;
	/** Ends the upload: its slot and any reservation are given back (stored bytes now count). */
	release(): void;
}

export interface WebQuotas {
	limits: Quotas;
	/** Before `init` creates a session: spends one of the client's new sessions for today. */
	beforeInit(presented: string | undefined, ip: string): Promise<void>;
	/**
	 * For a customer's message (text or upload), whose accept spends the conversation quota: the
	 * cap to pass as `openingLimit`, or undefined when the customer is known to have written.
	 */
	openingLimit(customerId: string): number | undefined;
	/** After a message of this customer was stored: their next ones cost no quota query. */
	started(customerId: string): void;
	/**
	 * Before an upload's body is read: one of the uploads at once of the instance, the customer,
	 * and the client's IP and network (when `ip` is given), or 429.
	 */
	enterUpload(customerId: string, ip?: string): UploadSlot;
	/** Uploads under way on this instance now. */
	uploadsUnderWay(): number;
	/** Before a file of this customer is served. */
	beforeDownload(customerId: string): Promise<void>;
}

/** Customers known to have a conversation already: no query for their later messages. */
const STARTED_MAX = 50_000;

export function createWebQuotas(
	database: Database,
	overrides: Partial<Quotas> | undefined,
): WebQuotas {
	const limits = resolveQuotas(overrides);
	const started = new Set<string>();
	/** Uploads under way per customer, per client IP and per network (keys never collide). */
	const uploading = new Map<string, number>();
	let uploadsAtOnce = 0;
	/** Bytes being stored right now (reserved, not yet in the media table), per customer. */
	const reserved = new Map<string, number>();
	let reservedTotal = 0;
	/** The reservation checks in progress, chained: see `reserve`. */
	let reserving: Promise<unknown> = Promise.resolve();
	const remember = (customerId: string) => {
		if (started.size >= STARTED_MAX) started.clear();
		started.add(customerId);
	};

	return {
		limits,
		async beforeInit(presented, ip) {
			if (await findSession(database, presented)) return;
			if (!(await spendDaily(database, `session:${clientKey(ip)}`, limits.sessionsPerIpPerDay)))
				throw quotaExceeded("Too many new chats from this network today.", true);
		},
		openingLimit: (customerId) => (started.has(customerId) ? undefined : limits.topicsPerIpPerDay),
		// Started or paid for now: the customer's next messages (a retry too) cost no query.
		started: remember,
		enterUpload(customerId, ip) {
			const counted: [string, number, string][] = [
				[
					`customer:${customerId}`,
					limits.concurrentUploadsPerCustomer,
					"Too many uploads at once.",
				],
			];
			if (ip !== undefined)
				counted.push(
					[
						`ip:${clientKey(ip)}`,
						limits.concurrentUploadsPerIp,
						"Too many uploads at once from this address.",
					],
					[
						`net:${networkKey(ip)}`,
						limits.concurrentUploadsPerNetwork,
						"Too many uploads at once from this network.",
					],
				);
			if (uploadsAtOnce >= limits.concurrentUploads)
				throw quotaExceeded("Too many uploads at once. Try again when the others are done.");
			for (const [key, cap, message] of counted)
				if ((uploading.get(key) ?? 0) >= cap)
					throw quotaExceeded(`${message} Try again when the others are done.`);
			for (const [key] of counted) uploading.set(key, (uploading.get(key) ?? 0) + 1);
			uploadsAtOnce += 1;
			let held = 0;
			let released = false;
			const slot: UploadSlot = {
				async reserve(bytes) {
					if (bytes > Math.min(limits.uploadBytesPerCustomer, limits.uploadBytesTotal))
						throw new AppError(
							"FILE_TOO_LARGE",
							"The file is larger than the storage allows.",
							413,
						);
					// One check at a time, each reserving before the next starts, so two uploads never
					// both fit into the same room.
					const turn = reserving.then(async () => {
						// What is reserved is read before what is stored: a file stored and released
						// in between is then counted twice (never over the quota), where the other
						// order could count it nowhere.
						const pending = reserved.get(customerId) ?? 0;
						const pendingTotal = reservedTotal;
						const stored = await storedUploadBytes(database, customerId);
						if (stored.customer + pending + bytes > limits.uploadBytesPerCustomer)
							throw quotaExceeded("This chat has used its storage for files.");
						if (stored.total + pendingTotal + bytes > limits.uploadBytesTotal)
							throw quotaExceeded("The storage for files is full.");
						reserved.set(customerId, (reserved.get(customerId) ?? 0) + bytes);
						reservedTotal += bytes;
						held += bytes;
					});
					reserving = turn.catch(() => {});
					await turn;
				},
				release() {
					if (released) return;
					released = true;
					for (const [key] of counted) {
						const left = (uploading.get(key) ?? 1) - 1;
						if (left > 0) uploading.set(key, left);
						else uploading.delete(key);
					}
					uploadsAtOnce -= 1;
					if (held > 0) {
						const rest = (reserved.get(customerId) ?? held) - held;
						if (rest > 0) reserved.set(customerId, rest);
						else reserved.delete(customerId);
						reservedTotal -= held;
					}
				},
				[Symbol.dispose]: () => slot.release(),
			};
			return slot;
		},
		uploadsUnderWay: () => uploadsAtOnce,
		async beforeDownload(customerId) {
			if (
				!(await spendDaily(
					database,
					`download:${customerId}`,
					limits.mediaDownloadsPerCustomerPerDay,
				))
			)
				throw quotaExceeded("Too many downloads of this chat's files today.", true);
		},
	};
}

const perApp = new WeakMap<object, WebQuotas>();

/**
 * The quotas of one app, made on first use: routes of the same app share the counters.
 *
 * @example await webQuotas(deps).beforeMessage(session.customerId);
 */
export function webQuotas(deps: {
	core: { database: Database };
	config: { quotas?: Partial<Quotas> };
}): WebQuotas {
	let found = perApp.get(deps.core);
	if (!found) {
		found = createWebQuotas(deps.core.database, deps.config.quotas);
		perApp.set(deps.core, found);
	}
	return found;
}
