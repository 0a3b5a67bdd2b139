/**
 * Delivers the outbox to Telegram: the head item of each customer's queue, several customers at
 * once, one item at a time per customer so order is kept. Items are leased (`locked_until`) with
 * SKIP LOCKED, so several instances can share the work without delivering anything twice.
 */
import { sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import type { CopyKind } from "../db/schema.ts";
import type { Logger } from "../logger.ts";
import { type CallFailure, classifyFailure } from "./bot-api.ts";
import type { FloodBudget } from "./flood-budget.ts";

export interface ClaimedItem {
	id: number;
	customerId: string;
	kind: string;
	payload: Record<string, unknown>;
	attempts: number;
}

/** Where a delivered message now lives in Telegram (a `message_copies` row). */
export interface DeliveredCopy {
	messageId: string;
	kind: CopyKind;
	chatId: number;
	telegramMessageId: number;
}

export interface OutboxHandlerContext {
	item: ClaimedItem;
	/** Marks the item done inside the handler's own final transaction (no resend after a crash). */
	complete(tx: Tx): Promise<void>;
	/**
	 * Records the copies a delivery made and marks the item (and any `alsoDone` items it carried)
	 * done, in one statement: the cheapest way to finish the common delivery.
	 */
	finish(copies: DeliveredCopy[], alsoDone?: number[]): Promise<void>;
}

/** Delivers one item; throws what the Bot API threw when it fails. */
export type OutboxHandler = (context: OutboxHandlerContext) => Promise<void>;

export interface OutboxWorkerOptions {
	database: Database;
	handlers: Record<string, OutboxHandler>;
	log: Logger;
	/** Items delivered at once (across different customers). */
	concurrency?: number;
	/** How long a claimed item stays leased to this instance. */
	leaseMs?: number;
	/** Poll interval for work this instance was not woken for (retries, other instances). */
	idlePollMs?: number;
	/** Flood budgets: group work is claimed only while the group has calls left. */
	budget?: FloodBudget;
	/** Told of each item delivered (metrics). */
	onDelivered?: (kind: string) => void;
	/**
	 * Held by the one instance that sends group work (several instances on one PostgreSQL).
	 * Without it this instance always sends group work (embedded PGlite is one process).
	 */
	groupLock?: SenderLock;
	/** How often a missing group lock is tried again and a held one re-checked. */
	groupLockCheckMs?: number;
	/** How long stop() lets items in flight finish before it aborts their calls. */
	stopGraceMs?: number;
	/** Aborts the Bot API calls in flight (stop() after its grace). */
	abortCalls?: () => void;
}

/**
 * The advisory lock key of a bot's group sender: namespace "tg" in the high bits (the poller's
 * is "td"), the bot id in the low bits.
 */
export function groupSenderLockKey(botId: number): bigint {
	return (0x7467n << 48n) | BigInt(botId);
}

/** A mutual-exclusion lock across instances (`leader.ts`'s advisory lock fits). */
export interface SenderLock {
	acquire(): Promise<boolean>;
	held(): Promise<boolean>;
	release(): Promise<void>;
}

export interface OutboxWorker {
	wake(): void;
	start(): void;
	/** Stops claiming and waits for the items in flight. */
	stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/** Items that report on others; when they die nothing more is said about them. */
const NOTICE_KINDS = new Set([
	"topic_notice",
	"topic_text",
	"sla_reminder",
	"card",
	"topic_rename",
]);

/** A timestamp `ms` from now as ISO text: Drizzle's postgres.js driver sends no Date objects. */
const isoAt = (ms: number) => new Date(Date.now() + ms).toISOString();

/** Exponential backoff with jitter for transient failures: 1 s, 2 s, 4 s … capped at a minute. */
export function backoffMs(attempts: number): number {
	const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
	return Math.round(base * (0.8 + Math.random() * 0.4));
}

export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
	const { database, handlers, log, budget } = options;
	const concurrency = options.concurrency ?? 32;
	const leaseMs = options.leaseMs ?? 60_000;
	const idlePollMs = options.idlePollMs ?? 1000;
	const stopGraceMs = options.stopGraceMs ?? 5000;
	let running = false;
	let stopping = false;
	/** Items claimed by this instance and not yet settled, by id: their leases are renewed. */
	const claimed = new Set<number>();
	let heartbeat: ReturnType<typeof setInterval> | undefined;
	let pumpDone: Promise<void> = Promise.resolve();
	// Group work: sent by this instance only while it holds the group lock (always without one).
	const groupLock = options.groupLock;
	let groupSender = !groupLock;
	let lockTimer: ReturnType<typeof setInterval> | undefined;
	let pumping = false;
	let again = false;
	let inFlight = 0;
	let inFlightGroup = 0;
	let wakeAt = Number.POSITIVE_INFINITY;
	let idle: Promise<void> = Promise.resolve();
	let releaseIdle: (() => void) | undefined;
	let timer: ReturnType<typeof setInterval> | undefined;

	// Times come from this process's clock, not the database's, so that a wait such as
	// Telegram's retry_after is measured on the same clock that measured the failure.
	const wakeAfter = (ms: number) => {
		const timer = setTimeout(() => void pump(), ms + 5);
		timer.unref?.();
	};
	/** Wakes when the group budget refills; one pending timer is enough however often asked. */
	const wakeForBudget = (ms: number) => {
		const at = Date.now() + ms;
		if (wakeAt > Date.now() && wakeAt <= at) return;
		wakeAt = at;
		wakeAfter(ms);
	};

	/**
	 * Claims heads of customers' queues for one target chat. Order: customer messages before
	 * reminders and card edits, then whoever has waited longest (a delivered item sends the
	 * customer's next one to the back of the line, so one chatty customer cannot starve others).
	 */
	const claim = (target: "group" | "dm", limit: number) =>
		limit <= 0
			? Promise.resolve([])
			: database.query<{
					id: number | string;
					customer_id: string;
					kind: string;
					payload: Record<string, unknown>;
					attempts: number;
				}>(sql`
			update outbox set locked_until = ${isoAt(leaseMs)}::timestamptz,
				attempts = attempts + 1
			where id in (
				select o.id from outbox o
				where o.state = 'pending' and o.target = ${target}
					and o.next_attempt_at <= ${isoAt(0)}::timestamptz
					and o.locked_until <= ${isoAt(0)}::timestamptz
					and not exists (
						select 1 from outbox p
						where p.state = 'pending' and p.customer_id = o.customer_id and p.id < o.id
					)
					-- One item in flight per customer: an earlier item put back by /retry must wait
					-- for the later one already leased (by any instance) to settle.
					and not exists (
						select 1 from outbox q
						where q.state = 'pending' and q.customer_id = o.customer_id and q.id <> o.id
							and q.locked_until > ${isoAt(0)}::timestamptz
					)
				order by o.priority, o.next_attempt_at, o.id
				limit ${limit}
				for update skip locked
			)
			returning id, customer_id, kind, payload, attempts`);

	/** Done, and the customer's next item queues behind everyone already waiting. */
	/**
	 * Done, and the customer's next item queues behind everyone already waiting. One statement:
	 * its parts see the same snapshot, so "next" skips the items being finished by id.
	 */
	const finishSql = (item: ClaimedItem, copies: DeliveredCopy[] = [], alsoDone: number[] = []) => {
		const done = [item.id, ...alsoDone];
		const copyRows = copies.map(
			(c) =>
				sql`(${c.messageId}::uuid, ${c.kind}, ${c.chatId}, ${c.telegramMessageId}, 'delivered')`,
		);
		const recordCopies = copyRows.length
			? sql`c as (insert into message_copies (message_id, kind, chat_id, telegram_message_id, state)
				values ${sql.join(copyRows, sql`, `)}
				on conflict (message_id, kind) do update set telegram_message_id = excluded.telegram_message_id,
					state = 'delivered', error = null),`
			: sql``;
		return sql`with ${recordCopies} d as (
				update outbox set state = 'done', done_at = now(), last_error = null
				where id in (${sql.join(
					done.map((id) => sql`${id}`),
					sql`, `,
				)})
			)
			update outbox set next_attempt_at = greatest(next_attempt_at, ${isoAt(0)}::timestamptz)
			where id = (select id from outbox where customer_id = ${item.customerId} and state = 'pending'
				and id not in (${sql.join(
					done.map((id) => sql`${id}`),
					sql`, `,
				)}) order by id limit 1)`;
	};
	const markDone = async (executor: Database["db"] | Tx, item: ClaimedItem) => {
		await executor.execute(finishSql(item));
	};

	async function settleFailure(item: ClaimedItem, failure: CallFailure) {
		if (failure.kind === "permanent") {
			log.warn("outbox item is dead", {
				event: "outbox.dead",
				customerId: item.customerId,
				id: item.id,
				kind: item.kind,
				reason: failure.description,
			});
			await database.db.transaction(async (tx) => {
				await tx.execute(sql`update outbox set state = 'dead', last_error = ${failure.description},
					locked_until = 'epoch' where id = ${item.id}`);
				// Operators see it in the topic, with the way to try again; a notice that itself
				// cannot be delivered is only logged, so failures never beget failures.
				if (!NOTICE_KINDS.has(item.kind))
					await tx.execute(sql`insert into outbox (customer_id, kind, payload, target, priority)
						values (${item.customerId}, 'topic_notice',
							${JSON.stringify({ text: "noticeDead", vars: { reason: failure.description } })}::jsonb,
							'group', 1)`);
			});
			return;
		}
		// A call cut short by stop() was no real attempt: the item is due again at once, so the
		// next instance (or this one restarted) resumes it immediately.
		const aborted = stopping && failure.kind === "transient";
		const delay = aborted
			? 0
			: failure.kind === "flood"
				? failure.retryAfterMs
				: backoffMs(item.attempts);
		await database.db.execute(sql`update outbox set locked_until = 'epoch',
			next_attempt_at = ${isoAt(delay)}::timestamptz,
			attempts = attempts - ${aborted ? 1 : 0},
			last_error = ${failure.description} where id = ${item.id}`);
		// Be awake when the item is due rather than up to one idle poll late.
		wakeAfter(delay);
	}

	async function deliver(item: ClaimedItem) {
		const handler = handlers[item.kind];
		try {
			if (!handler) throw new Error(`no handler for outbox kind ${item.kind}`);
			let completed = false;
			await handler({
				item,
				complete: async (tx) => {
					await markDone(tx, item);
					completed = true;
				},
				finish: async (copies, alsoDone) => {
					await database.db.execute(finishSql(item, copies, alsoDone));
					completed = true;
				},
			});
			if (!completed) await markDone(database.db, item);
			options.onDelivered?.(item.kind);
		} catch (error) {
			const failure: CallFailure = handler
				? classifyFailure(error)
				: { kind: "permanent", code: 0, description: String(error) };
			if (failure.kind === "transient")
				log.debug("outbox retry", {
					event: "outbox.retry",
					customerId: item.customerId,
					id: item.id,
					error: failure,
				});
			await settleFailure(item, failure).catch((e) =>
				log.error("could not record outbox failure", { id: item.id, error: String(e) }),
			);
		}
	}

	/** Puts claimed rows back unleased and due (claimed while stopping: nobody will send them). */
	const release = async (ids: number[]) => {
		if (ids.length === 0) return;
		await database.db.execute(sql`update outbox set locked_until = 'epoch',
			attempts = greatest(0, attempts - 1)
			where id in (${sql.join(
				ids.map((id) => sql`${id}`),
				sql`, `,
			)}) and state = 'pending'`);
	};

	/**
	 * Keeps the leases of items in flight ahead of the clock: a call that waits out a long
	 * `retry_after` (or a slow Telegram) keeps its item, so no other instance, and no later claim
	 * of this one, sends it a second time meanwhile.
	 */
	const renewLeases = async () => {
		if (claimed.size === 0) return;
		await database.db
			.execute(sql`update outbox set locked_until = ${isoAt(leaseMs)}::timestamptz
				where state = 'pending' and id in (${sql.join(
					[...claimed].map((id) => sql`${id}`),
					sql`, `,
				)})`)
			.catch((error: unknown) => log.warn("outbox lease renewal failed", { error: String(error) }));
	};

	const checkGroupLock = async () => {
		if (!groupLock || !running) return;
		try {
			const had = groupSender;
			groupSender = groupSender ? await groupLock.held() : await groupLock.acquire();
			if (groupSender && !had) void pump();
		} catch (error) {
			groupSender = false;
			log.warn("group sender lock check failed", { error: String(error) });
		}
	};

	function pump() {
		if (!running) return;
		if (pumping) {
			again = true;
			return;
		}
		pumpDone = pumpOnce();
	}

	async function pumpOnce() {
		pumping = true;
		try {
			do {
				again = false;
				const room = concurrency - inFlight;
				if (room <= 0) break;
				const direct = await claim("dm", room);
				// Group work only on the instance holding the group lock, and only while the group's
				// flood budget has calls left; items in flight have not all made their calls yet, so
				// they count against it too (conservative).
				const groupRoom = !groupSender
					? 0
					: Math.min(
							room - direct.length,
							budget ? budget.available("group") - inFlightGroup : room,
						);
				const grouped = await claim("group", groupRoom);
				// Budget-bound and took all it could: more group work is likely waiting behind it.
				if (budget)
					budget.noteGroupBacklog(groupRoom < room - direct.length && grouped.length >= groupRoom);
				if (budget && groupSender && groupRoom <= 0)
					wakeForBudget(Math.max(50, budget.waitMs("group")));
				const rows = [...direct, ...grouped];
				if (!running) {
					// stop() came while claiming: hand the rows straight back.
					await release(rows.map((row) => Number(row.id)));
					break;
				}
				for (const row of rows) {
					const item: ClaimedItem = {
						id: Number(row.id),
						customerId: row.customer_id,
						kind: row.kind,
						payload: row.payload,
						attempts: row.attempts,
					};
					const toGroup = grouped.includes(row);
					if (toGroup) inFlightGroup++;
					if (inFlight++ === 0) idle = new Promise((resolve) => (releaseIdle = resolve));
					claimed.add(item.id);
					void deliver(item).finally(() => {
						claimed.delete(item.id);
						if (toGroup) inFlightGroup--;
						if (--inFlight === 0) releaseIdle?.();
						void pump();
					});
				}
				if (rows.length === room || (grouped.length > 0 && grouped.length === groupRoom))
					again = true;
			} while (again && running);
		} catch (error) {
			log.warn("outbox claim failed", { error: String(error) });
		} finally {
			pumping = false;
		}
	}

	return {
		wake: () => void pump(),
		start() {
			if (running) return;
			running = true;
			stopping = false;
			timer = setInterval(() => void pump(), idlePollMs);
			heartbeat = setInterval(() => void renewLeases(), Math.max(50, Math.floor(leaseMs / 3)));
			if (groupLock) {
				lockTimer = setInterval(() => void checkGroupLock(), options.groupLockCheckMs ?? 2000);
				void checkGroupLock();
			}
			void pump();
		},
		async stop() {
			running = false;
			if (timer) clearInterval(timer);
			if (lockTimer) clearInterval(lockTimer);
			await pumpDone;
			// Items in flight get a grace to finish; then their calls are aborted, and each aborted
			// item is put back due at once (settleFailure) rather than left leased for a minute.
			let graceTimer: ReturnType<typeof setTimeout> | undefined;
			const graceOver = new Promise<boolean>((resolve) => {
				graceTimer = setTimeout(() => resolve(false), stopGraceMs);
			});
			const finished = await Promise.race([idle.then(() => true), graceOver]);
			clearTimeout(graceTimer);
			if (!finished) {
				stopping = true;
				options.abortCalls?.();
				await idle;
			}
			if (heartbeat) clearInterval(heartbeat);
			if (groupLock) {
				groupSender = false;
				await groupLock.release().catch(() => undefined);
			}
		},
	};
}
