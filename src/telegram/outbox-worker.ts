/**
 * Delivers the outbox to Telegram: the head item of each customer's queue, several customers at
 * once, one item at a time per customer so order is kept. Heads live in `outbox_heads` (one row
 * per customer, README "outbox heads"): a claim reads only runnable heads with SKIP LOCKED, so its
 * cost does not grow with the backlog behind them or depend on the planner's statistics. Claimed
 * heads are leased (`ready_at` = `locked_until` = lease end), so several instances share the work
 * without delivering anything twice. Finishes are batched over a few milliseconds into one
 * statement; every hot statement is prepared once per connection.
 */
import type { HandedOffItem, OutboxHandOff } from "../core/outbox-items.ts";
import type { Database, Tx } from "../db/client.ts";
import { isRetryable } from "../db/errors.ts";
import {
	arrayLiteral,
	dateOrNull,
	numberOrNull,
	type Param,
	rawQuery,
	rawStatement,
} from "../db/raw-sql.ts";
import type { CopyKind, messages } from "../db/schema.ts";
import type { Logger } from "../observability/logger.ts";
import { type CallFailure, classifyFailure } from "./bot-api.ts";
import type { FloodBudget } from "./flood-budget.ts";

type MessageRow = typeof messages.$inferSelect;

export interface ClaimedItem {
	id: number;
	customerId: string;
	kind: string;
	payload: Record<string, unknown>;
	attempts: number;
	/**
	 * `topic_message`: the message (null when it is gone) and its customer's chat, topic and card,
	 * read by the claim itself, so delivery needs no further read in the common case.
	 */
	prefetched?: {
		message: MessageRow | null;
		chatId?: number | null;
		topicId?: number | null;
		cardMessageId?: number | null;
	};
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
	/** Items delivered at once (across different customers). Default 128. */
	concurrency?: number;
	/** How long a claimed item stays leased to this instance. */
	leaseMs?: number;
	/**
	 * Poll interval for work this instance was not woken for: the safety net behind the wake-ups
	 * (commits here, other instances' notices, retry and budget timers, becoming the group
	 * sender), e.g. items whose lease a crashed instance left to expire. Default 30 s: every
	 * poll is a statement, and an idle desk's statements are most of what PostgreSQL does for it.
	 */
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
	/** How long finishes that a delivery waits on are collected into one statement. Default 2 ms. */
	finishBatchMs?: number;
	/**
	 * How long the finish of an item with nothing behind it may wait to share a statement with
	 * later finishes (README, "Finishes at a light load"). Default 100 ms, at most a quarter of
	 * the lease. A kill -9 in that window sends those items again; a graceful stop writes them.
	 */
	finishDeferMs?: number;
	/** How often the repair sweep re-derives broken heads (a failsafe). Default 60 s. */
	repairMs?: number;
	/**
	 * Consecutive transient failures (5xx, network) on one target after which Telegram counts as
	 * down for it: only one probe item at a time is sent there until a call gets an answer.
	 * Default 3.
	 */
	outageAfter?: number;
	/** First pause before a probe; it doubles after each failed probe up to `probeMaxMs`. Default 0.5 s. */
	probeFirstMs?: number;
	/**
	 * Longest pause between probes while a target is down. Default 1 s: one call a second costs
	 * nothing (a failed one does not even spend the budget), and the backlog waits at most that
	 * long once Telegram is back.
	 */
	probeMaxMs?: number;
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
	/** Copies leased to this worker by the statement that accepted them (README "hand-off"). */
	handOff: OutboxHandOff;
	start(): void;
	/** Stops claiming and waits for the items in flight. */
	stop(): Promise<void>;
	/**
	 * Writes the finishes collected so far (deferred ones included): whatever reads the copies
	 * a delivery made, such as an update replying to one, finds them.
	 */
	settle(): Promise<void>;
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

interface ClaimRow {
	id: number | string;
	customer_id: string | null;
	kind: string;
	payload: Record<string, unknown>;
	attempts: number;
	m_id: string | null;
	m_seq: number | string | null;
	m_author: string | null;
	m_channel: string | null;
	m_text: string | null;
	m_entities: unknown;
	m_media_id: string | null;
	m_reply_to_id: string | null;
	m_client_message_id: string | null;
	m_created_at: Date | string | null;
	m_edited_at: Date | string | null;
	cu_chat_id: number | string | null;
	cu_topic_id: number | string | null;
	cu_card_message_id: number | string | null;
	target?: string;
	/** The customer's queue had another item behind this one when it was claimed. */
	has_next?: boolean;
}

/** A `topic_message` claim carries its message and customer (read in the claim statement). */
function prefetchedOf(row: ClaimRow): ClaimedItem["prefetched"] {
	if (row.kind !== "topic_message") return undefined;
	if (row.m_id == null) return { message: null };
	return {
		message: {
			id: row.m_id,
			seq: Number(row.m_seq),
			customerId: row.customer_id as string,
			author: row.m_author as MessageRow["author"],
			channel: row.m_channel as MessageRow["channel"],
			text: row.m_text ?? "",
			entities: row.m_entities ?? null,
			mediaId: row.m_media_id,
			replyToId: row.m_reply_to_id,
			clientMessageId: row.m_client_message_id,
			createdAt: dateOrNull(row.m_created_at) as Date,
			editedAt: dateOrNull(row.m_edited_at),
		},
		chatId: numberOrNull(row.cu_chat_id),
		topicId: numberOrNull(row.cu_topic_id),
		cardMessageId: numberOrNull(row.cu_card_message_id),
	};
}

/**
 * The claim (README "outbox heads"), both targets in one statement (one round trip per pump):
 * runnable DM heads and group heads in serving order, each with its own limit, locked with SKIP
 * LOCKED and leased (head and item) in the same statement. It reads only `outbox_heads`, so it
 * costs the same at any backlog. Parameters: DM limit, group limit, now, lease end. Rows carry
 * their target, and whether their queue has another item behind them.
 *
 * Written so that no table statistics can turn it into a scan (a generic plan guesses a
 * `limit $n` at 10% of the heads it might read, which made hash joins over every head and every
 * message look cheap): heads and items are found by key with `= any(array(…))`, the message and
 * its customer through a LATERAL lookup (`limit 1` keeps the planner from flattening it into a
 * join: a nested loop by primary key). Empty queues' heads have
 * the target 'idle' (a check constraint), so the ranges read here never include them and need no
 * `head_id is not null`, which made the planner walk every busy head by `outbox_heads_head_idx`.
 * The item is found by primary key with no `state = 'pending'` (a partial index analysed while
 * empty could be chosen for it).
 */
export const CLAIM_SQL = `with hd as (
	select customer_id, head_id from outbox_heads
	where target = 'dm' and ready_at <= $3::text::timestamptz
	order by priority, ready_at, head_id
	limit $1::int
	for update skip locked
), hg as (
	select customer_id, head_id from outbox_heads
	where target = 'group' and ready_at <= $3::text::timestamptz
	order by priority, ready_at, head_id
	limit $2::int
	for update skip locked
), h as (
	select customer_id, head_id, 'dm' as target from hd
	union all select customer_id, head_id, 'group' as target from hg
), l as (
	update outbox_heads x set ready_at = $4::text::timestamptz
	where x.customer_id = any(array(select customer_id from h))
), c as (
	update outbox o set locked_until = $4::text::timestamptz, attempts = o.attempts + 1
	where o.id = any(array(select head_id from h)) and o.state <> 'done' and o.state <> 'dead'
	returning o.id, o.customer_id, o.kind, o.payload, o.attempts
)
select c.*, h.target, mc.*,
	(c.customer_id is null or exists (select 1 from outbox p
		where p.customer_id = c.customer_id and p.state = 'pending' and p.id > c.id)) as has_next
from c
join h on h.head_id = c.id
left join lateral (
	select m.id as m_id, m.seq as m_seq, m.author as m_author, m.channel as m_channel,
		m.text as m_text, m.entities as m_entities, m.media_id as m_media_id,
		m.reply_to_id as m_reply_to_id, m.client_message_id as m_client_message_id,
		m.created_at as m_created_at, m.edited_at as m_edited_at,
		cu.telegram_user_id as cu_chat_id, cu.topic_id as cu_topic_id,
		cu.card_message_id as cu_card_message_id
	from messages m join customers cu on cu.id = m.customer_id
	where c.kind = 'topic_message' and m.id = (c.payload->>'messageId')::uuid
	limit 1
) mc on true`;

/**
 * Telegram answered again after an outage: the heads on items that backed off during it are due
 * now, not after their own backoffs (up to 30 s each). Only items not in flight (lease over) and
 * still their queue's head; heads locked first, in key order, like every other writer. Parameters:
 * item ids, now. Returns one row per head woken.
 */
export const WAKE_SQL = `with h as (
	select customer_id, head_id from outbox_heads
	where head_id = any($1::text::bigint[]) and ready_at > $2::text::timestamptz
	order by customer_id
	for update
), o as (
	update outbox o set next_attempt_at = $2::text::timestamptz from h
	where o.id = h.head_id and o.state = 'pending' and o.locked_until <= $2::text::timestamptz
	returning o.id
)
update outbox_heads x set ready_at = $2::text::timestamptz from o where x.head_id = o.id
returning x.customer_id`;

/** Items woken by one statement after an outage. */
const WAKE_CHUNK = 1000;
/** Backed-off items remembered per target for the wake (the oldest are forgotten beyond it). */
const MAX_BACKED_OFF = 100_000;

type Target = "group" | "dm";

/**
 * A target's view of Telegram (a circuit breaker): `failures` in a row; once `open`, only one
 * probe item at a time goes there, each after a growing pause, so an outage does not spend every
 * item's attempts; `backedOff` are the items waiting out a backoff after a transient failure,
 * woken at once when the target answers again.
 */
interface TargetState {
	failures: number;
	open: boolean;
	probeDue: boolean;
	probeId: number | undefined;
	probeDelay: number;
	probeTimer: ReturnType<typeof setTimeout> | undefined;
	backedOff: Set<number>;
}

/** Items back to the queue at a time: ids, due at, error (or null), attempts to take back. */
const REQUEUE_SQL =
	"select outbox_requeue($1::text::bigint[], $2::text::timestamptz, $3::text, $4::int)";

/** Finishes collected before one statement runs them all. */
const MAX_FINISH_BATCH = 64;
/** Tries of a deferred finish that fails (a second apart) before its lease is left to run out. */
const DEFERRED_FINISH_ATTEMPTS = 5;

interface PendingFinish {
	ids: number[];
	copies: DeliveredCopy[];
	resolve(): void;
	reject(error: unknown): void;
}

/**
 * Records the copies deliveries made and finishes their items, in one statement. Copies of one
 * message and kind appear once (the latest wins), as one INSERT cannot touch a row twice.
 */
function runFinish(executor: Database | Tx, entries: Pick<PendingFinish, "ids" | "copies">[]) {
	// Prepared outside a transaction; inside one, as the transaction's other statements.
	const run = (text: string, params: Param[]) =>
		"db" in executor ? rawStatement(executor, text, params) : rawQuery(executor, text, params);
	const ids = entries.flatMap((entry) => entry.ids);
	const copies = new Map<string, DeliveredCopy>();
	for (const entry of entries)
		for (const copy of entry.copies) copies.set(`${copy.messageId}/${copy.kind}`, copy);
	if (copies.size === 0)
		return run("select outbox_finish($1::text::bigint[])", [arrayLiteral(ids)]);
	const rows = [...copies.values()];
	return run(FINISH_WITH_COPIES_SQL, [
		arrayLiteral(rows.map((c) => c.messageId)),
		arrayLiteral(rows.map((c) => c.kind)),
		arrayLiteral(rows.map((c) => c.chatId)),
		arrayLiteral(rows.map((c) => c.telegramMessageId)),
		arrayLiteral(ids),
	]);
}

const FINISH_WITH_COPIES_SQL = `with c as (
	insert into message_copies (message_id, kind, chat_id, telegram_message_id, state)
	select m, k, ch, t, 'delivered'
	from unnest($1::text::uuid[], $2::text::text[], $3::text::bigint[], $4::text::bigint[]) as u(m, k, ch, t)
	on conflict (message_id, kind) do update set telegram_message_id = excluded.telegram_message_id,
		state = 'delivered', error = null
)
select outbox_finish($5::text::bigint[])`;

/** A statement PostgreSQL chose as a deadlock victim is simply run again. */
async function retrying<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await fn();
		} catch (error) {
			if (attempt >= attempts || !isRetryable(error)) throw error;
			await Bun.sleep(5 * attempt);
		}
	}
}

export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
	const { database, handlers, log, budget } = options;
	const concurrency = options.concurrency ?? 128;
	const leaseMs = options.leaseMs ?? 60_000;
	const idlePollMs = options.idlePollMs ?? 30_000;
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
	/** wake() calls so far: work made ready by a commit here or another instance's notice. */
	let wakes = 0;
	/** The latest claim took every ready head it could see (fewer rows than each limit). */
	let lastClaimExhausted = false;
	let idle: Promise<void> = Promise.resolve();
	let releaseIdle: (() => void) | undefined;
	let timer: ReturnType<typeof setInterval> | undefined;
	let repairTimer: ReturnType<typeof setInterval> | undefined;
	const outageAfter = options.outageAfter ?? 3;
	const probeFirstMs = options.probeFirstMs ?? 500;
	const probeMaxMs = options.probeMaxMs ?? 1000;
	const targetState = (): TargetState => ({
		failures: 0,
		open: false,
		probeDue: false,
		probeId: undefined,
		probeDelay: probeFirstMs,
		probeTimer: undefined,
		backedOff: new Set(),
	});
	const targets: Record<Target, TargetState> = { group: targetState(), dm: targetState() };

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
	const claim = async (dmLimit: number, groupLimit: number): Promise<ClaimRow[]> =>
		dmLimit <= 0 && groupLimit <= 0
			? []
			: // A finish sets the next head's ready_at from the database's clock in microseconds, while
				// this clock is read in whole milliseconds: a claim right after a finish, in the same
				// millisecond, would read "not yet" and leave the head to the idle poll. One millisecond
				// ahead covers the truncation.
				rawStatement<ClaimRow>(database, CLAIM_SQL, [
					Math.max(0, dmLimit),
					Math.max(0, groupLimit),
					isoAt(1),
					isoAt(leaseMs),
				]);

	// Finishes: collected, then one statement records every copy and finishes every item
	// (outbox_finish locks the heads first, then advances them). A finish that a delivery waits
	// on (its customer has more queued) waits a few milliseconds at most. One with nothing behind
	// it is deferred: at a light load each message is otherwise alone, and its finish is a
	// statement and a commit of its own, a quarter of what PostgreSQL and the service spent per
	// message at 50 messages/s (docs/BENCHMARKS.md). Anything that needs the heads or copies as
	// deliveries left them — a claim, an incoming update (settle), a stop — writes them first.
	const finishBatchMs = options.finishBatchMs ?? 2;
	const finishDeferMs = Math.min(options.finishDeferMs ?? 100, leaseMs / 4);
	let batch: PendingFinish[] = [];
	let awaitedInBatch = 0;
	let batchTimer: ReturnType<typeof setTimeout> | undefined;
	let batchDueAt = Number.POSITIVE_INFINITY;
	/** Finish statements running now, and how many of them hold deferred finishes. */
	const finishing = new Set<Promise<void>>();
	let deferredRunning = 0;
	const flushFinishes = () => {
		if (batchTimer) clearTimeout(batchTimer);
		batchTimer = undefined;
		batchDueAt = Number.POSITIVE_INFINITY;
		const entries = batch;
		const deferred = entries.length > awaitedInBatch;
		batch = [];
		awaitedInBatch = 0;
		if (entries.length === 0) return Promise.resolve();
		if (deferred) deferredRunning++;
		const run: Promise<void> = runFinishes(entries).finally(() => {
			finishing.delete(run);
			if (deferred) deferredRunning--;
		});
		finishing.add(run);
		return run;
	};
	/** Every finish collected so far, written: the heads and copies are as deliveries left them. */
	const settleFinishes = async () => {
		if (batch.length === 0 && finishing.size === 0) return;
		await Promise.all([flushFinishes(), ...finishing]);
	};
	/**
	 * Deferred finishes not yet written, or being written: no delivery waits on them, so claims
	 * (which must see the heads they advance) write and wait for them first.
	 */
	const deferredPending = () => batch.length > awaitedInBatch || deferredRunning > 0;
	const runFinishes = async (entries: PendingFinish[]) => {
		try {
			await retrying(() => runFinish(database, entries));
			for (const entry of entries) entry.resolve();
		} catch (error) {
			// One bad entry must not fail the others: each on its own.
			if (entries.length === 1) entries[0]?.reject(error);
			else
				for (const entry of entries)
					await retrying(() => runFinish(database, [entry])).then(entry.resolve, entry.reject);
		}
	};
	const flushWithin = (ms: number) => {
		const at = Date.now() + ms;
		if (batchTimer && batchDueAt <= at) return;
		if (batchTimer) clearTimeout(batchTimer);
		batchDueAt = at;
		batchTimer = setTimeout(() => void flushFinishes(), ms);
	};
	/**
	 * Defers a finish; one that fails is tried again a second later (the send happened: writing
	 * its record avoids sending it twice), a few times, while its lease still holds the item.
	 */
	const deferFinish = (ids: number[], copies: DeliveredCopy[], attempt = 1) => {
		batch.push({
			ids,
			copies,
			resolve: () => {},
			reject: (error) => {
				if (attempt < DEFERRED_FINISH_ATTEMPTS && running) {
					const retry = setTimeout(() => deferFinish(ids, copies, attempt + 1), 1000);
					retry.unref?.();
					return;
				}
				log.error("could not record a delivery; once its lease runs out it is sent again", {
					ids,
					error: String(error),
				});
			},
		});
		if (batch.length >= MAX_FINISH_BATCH) void flushFinishes();
		else flushWithin(finishDeferMs);
	};
	const finishLater = (ids: number[], copies: DeliveredCopy[], deferrable: boolean) => {
		// Only while running (a stop writes at once) and while this instance sends group work:
		// elsewhere the head it advances may be a group item, which only the group sender
		// claims, and nothing would tell that instance when it became ready.
		if (deferrable && running && groupSender) {
			deferFinish(ids, copies);
			return Promise.resolve();
		}
		return new Promise<void>((resolve, reject) => {
			batch.push({ ids, copies, resolve, reject });
			awaitedInBatch++;
			// Every item in flight already waits in the batch (a light load): nothing can join it
			// but work not started yet, so the wait would only add a wake-up per message.
			if (batch.length >= MAX_FINISH_BATCH || awaitedInBatch >= inFlight) void flushFinishes();
			else flushWithin(finishBatchMs);
		});
	};

	/** Heads on these items due now (their backoffs cut short); how many were woken. */
	const wakeHeads = async (ids: number[]) => {
		let woken = 0;
		for (let i = 0; i < ids.length; i += WAKE_CHUNK) {
			const rows = await retrying(() =>
				rawStatement(database, WAKE_SQL, [arrayLiteral(ids.slice(i, i + WAKE_CHUNK)), isoAt(0)]),
			);
			woken += rows.length;
		}
		return woken;
	};

	const scheduleProbe = (state: TargetState, ms: number) => {
		if (state.probeTimer) return;
		state.probeTimer = setTimeout(() => {
			state.probeTimer = undefined;
			state.probeDue = true;
			void pump();
		}, ms);
		state.probeTimer.unref?.();
	};

	/** How many items of this target a claim may take: all the room, or one probe while down. */
	const roomFor = (target: Target, room: number) => {
		const state = targets[target];
		if (!state.open) return room;
		return state.probeDue && state.probeId === undefined ? Math.min(1, room) : 0;
	};

	/**
	 * The probe's claim found nothing ready (every head is backing off): the oldest backed-off
	 * item is made due so that it can be the probe. True when one was.
	 */
	const readyAProbe = async (target: Target) => {
		const state = targets[target];
		for (const id of state.backedOff) {
			state.backedOff.delete(id);
			if ((await wakeHeads([id])) > 0) return true;
		}
		return false;
	};

	/** Telegram answered a call for this target (any answer but a 5xx or a network failure). */
	const answered = (target: Target, id: number) => {
		const state = targets[target];
		state.failures = 0;
		if (!state.open) {
			state.backedOff.delete(id);
			return;
		}
		state.open = false;
		state.probeDue = false;
		state.probeId = undefined;
		state.probeDelay = probeFirstMs;
		if (state.probeTimer) clearTimeout(state.probeTimer);
		state.probeTimer = undefined;
		const ids = [...state.backedOff].filter((other) => other !== id);
		state.backedOff.clear();
		log.info("telegram answers again", {
			event: "outbox.target_up",
			target,
			waking: ids.length,
		});
		void wakeHeads(ids)
			.catch((error: unknown) =>
				log.warn("outbox wake after an outage failed", { error: String(error) }),
			)
			.then(() => pump());
	};

	/** A call for this target failed at the network or with a 5xx; the item backs off. */
	const unanswered = (target: Target, id: number) => {
		const state = targets[target];
		if (state.backedOff.size >= MAX_BACKED_OFF) {
			const oldest = state.backedOff.values().next().value;
			if (oldest !== undefined) state.backedOff.delete(oldest);
		}
		state.backedOff.add(id);
		state.failures++;
		if (state.open) {
			// Only the probe's failure sets the next probe; items sent before the target was found
			// down fail on their own.
			if (id !== state.probeId) return;
			state.probeId = undefined;
			state.probeDelay = Math.min(probeMaxMs, state.probeDelay * 2);
			scheduleProbe(state, state.probeDelay);
		} else if (state.failures >= outageAfter) {
			state.open = true;
			state.probeDue = false;
			state.probeDelay = probeFirstMs;
			log.warn("telegram unreachable: probing with one item", {
				event: "outbox.target_down",
				target,
			});
			scheduleProbe(state, state.probeDelay);
		}
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
			// Operators see it in the topic, with the way to try again; a notice that itself
			// cannot be delivered is only logged, so failures never beget failures.
			const notice = NOTICE_KINDS.has(item.kind)
				? null
				: JSON.stringify({ text: "noticeDead", vars: { reason: failure.description } });
			await retrying(() =>
				rawStatement(database, "select outbox_dead($1::bigint, $2::text, $3::text::jsonb)", [
					item.id,
					failure.description,
					notice,
				]),
			);
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
		await retrying(() =>
			rawStatement(database, REQUEUE_SQL, [
				arrayLiteral([item.id]),
				isoAt(delay),
				failure.description,
				aborted ? 1 : 0,
			]),
		);
		// Be awake when the item is due rather than up to one idle poll late.
		wakeAfter(delay);
	}

	/** Delivers one item; `hasNext`: its customer has more queued, which waits on its finish. */
	async function deliver(item: ClaimedItem, target: Target, hasNext: boolean): Promise<boolean> {
		const handler = handlers[item.kind];
		try {
			if (!handler) throw new Error(`no handler for outbox kind ${item.kind}`);
			let completed = false;
			await handler({
				item,
				complete: async (tx) => {
					await runFinish(tx, [{ ids: [item.id], copies: [] }]);
					completed = true;
				},
				finish: async (copies, alsoDone) => {
					await finishLater([item.id, ...(alsoDone ?? [])], copies, !hasNext);
					completed = true;
				},
			});
			if (!completed) await finishLater([item.id], [], !hasNext);
			answered(target, item.id);
			options.onDelivered?.(item.kind);
			return true;
		} catch (error) {
			const failure: CallFailure = handler
				? classifyFailure(error)
				: { kind: "permanent", code: 0, description: String(error) };
			// A call cut short by stop() says nothing about Telegram.
			if (failure.kind !== "transient") answered(target, item.id);
			else if (!stopping) unanswered(target, item.id);
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
			return false;
		}
	}

	/** Puts claimed rows back unleased and due (claimed while stopping: nobody will send them). */
	const release = async (ids: number[]) => {
		if (ids.length === 0) return;
		await retrying(() =>
			rawStatement(database, REQUEUE_SQL, [arrayLiteral(ids), isoAt(0), null, 1]),
		);
	};

	/**
	 * Keeps the leases of items in flight ahead of the clock: a call that waits out a long
	 * `retry_after` (or a slow Telegram) keeps its item, so no other instance, and no later claim
	 * of this one, sends it a second time meanwhile.
	 */
	const renewLeases = async () => {
		if (claimed.size === 0) return;
		await rawStatement(database, "select outbox_renew($1::text::bigint[], $2::text::timestamptz)", [
			arrayLiteral([...claimed]),
			isoAt(leaseMs),
		]).catch((error: unknown) => log.warn("outbox lease renewal failed", { error: String(error) }));
	};

	/** The failsafe: heads that no write path should have left wrong are re-derived. */
	const repairHeads = async () => {
		try {
			const [row] = await rawStatement<{ fixed: number }>(
				database,
				"select outbox_heads_repair() as fixed",
				[],
			);
			if (Number(row?.fixed ?? 0) > 0) {
				log.warn("outbox heads repaired", { event: "outbox.heads_repaired", queues: row?.fixed });
				void pump();
			}
		} catch (error) {
			log.warn("outbox heads repair failed", { error: String(error) });
		}
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

	/** A place among the items in flight, taken before the item is known (claim or hand-off). */
	function take(target: Target) {
		if (target === "group") inFlightGroup++;
		if (inFlight++ === 0) idle = new Promise((resolve) => (releaseIdle = resolve));
	}
	function untake(target: Target) {
		if (target === "group") inFlightGroup--;
		if (--inFlight === 0) releaseIdle?.();
	}

	/** Delivers an item this worker holds (claimed or handed off); its place was taken. */
	function launch(item: ClaimedItem, target: Target, hasNext: boolean, wakesBefore: number) {
		claimed.add(item.id);
		void deliver(item, target, hasNext).then((delivered) => {
			claimed.delete(item.id);
			untake(target);
			// A claim after each delivery finds the customer's next item, or work the room or the
			// budget held back. Not needed (one statement saved per message at a low rate) when
			// the item was delivered, its queue had nothing behind it, nothing woke the worker
			// since it was claimed and the latest claim took every ready head: whatever becomes
			// ready later wakes the worker itself.
			if (!delivered || hasNext || wakes !== wakesBefore || !lastClaimExhausted) void pump();
		});
	}

	/**
	 * The hand-off (README): a web message's topic copy that became the head of an idle queue is
	 * leased to this worker by the statement that accepted it, and delivered with no claim. Only
	 * while this instance sends group work, Telegram answers, and the room and the group budget
	 * allow one more item; the place is taken at `reserve`, so concurrent reservations count.
	 */
	const handOff: OutboxHandOff = {
		reserve() {
			if (!running || stopping || !groupSender || targets.group.open) return null;
			if (inFlight >= concurrency) return null;
			if (budget && budget.available("group") - inFlightGroup < 1) return null;
			take("group");
			// Anything filed behind this copy saw it as its queue's head, so it was filed (and
			// woke the worker) after this point: counted from here, its wake-up is not lost.
			const wakesBefore = wakes;
			let settled = false;
			return {
				lease: isoAt(leaseMs),
				cancel() {
					if (settled) return;
					settled = true;
					untake("group");
				},
				deliver(handed: HandedOffItem) {
					if (settled) return;
					settled = true;
					const item: ClaimedItem = {
						id: handed.id,
						customerId: handed.customerId,
						kind: "topic_message",
						payload: { messageId: handed.message.id },
						attempts: 1,
						prefetched: {
							message: handed.message,
							chatId: handed.chatId,
							topicId: handed.topicId,
							cardMessageId: handed.cardMessageId,
						},
					};
					// A new head of an idle queue: nothing was behind it when it was filed.
					launch(item, "group", false, wakesBefore);
				},
			};
		},
		giveBack: async (itemId) => {
			await retrying(() => rawStatement(database, "select outbox_give_back($1::bigint)", [itemId]));
		},
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
				// A deferred finish still holds its customer's head: written first, so that the
				// claim sees what was filed behind it (whoever filed it woke this pump).
				if (deferredPending()) await settleFinishes();
				const room = concurrency - inFlight;
				if (room <= 0) break;
				const dmRoom = roomFor("dm", room);
				// Group work only on the instance holding the group lock, and only while the group's
				// flood budget has calls left; items in flight have not all made their calls yet, so
				// they count against it too (conservative).
				const budgetRoom = !groupSender
					? 0
					: Math.min(room, budget ? budget.available("group") - inFlightGroup : room);
				const groupRoom = roomFor("group", budgetRoom);
				// One statement claims both targets; when both had more work than room, the group
				// heads beyond it go back at once (due now, the attempt not counted).
				const wakesBefore = wakes;
				const rows = await claim(dmRoom, groupRoom);
				const direct = rows.filter((row) => row.target !== "group");
				let grouped = rows.filter((row) => row.target === "group");
				const over = direct.length + grouped.length - room;
				lastClaimExhausted = direct.length < dmRoom && grouped.length < groupRoom && over <= 0;
				if (over > 0) {
					const excess = grouped.slice(grouped.length - over);
					grouped = grouped.slice(0, grouped.length - over);
					await release(excess.map((row) => Number(row.id)));
				}
				// Budget-bound and took all it could: more group work is likely waiting behind it.
				// An instance that is not the group sender has no say about the group's backlog (its
				// room of 0 is not a budget running short, and must not drop its visitors' typing).
				if (budget)
					budget.noteGroupBacklog(
						groupSender && budgetRoom < room - direct.length && grouped.length >= budgetRoom,
					);
				if (budget && groupSender && budgetRoom <= 0)
					wakeForBudget(Math.max(50, budget.waitMs("group")));
				// While a target is down, what was claimed there is its probe; a probe that found
				// nothing ready readies one backed-off item and claims again.
				for (const [target, taken, limit] of [
					["dm", direct, dmRoom],
					["group", grouped, groupRoom],
				] as const) {
					const state = targets[target];
					if (!state.open || limit <= 0) continue;
					const probe = taken[0];
					if (probe) {
						state.probeDue = false;
						state.probeId = Number(probe.id);
					} else if (await readyAProbe(target)) again = true;
				}
				rows.length = 0;
				rows.push(...direct, ...grouped);
				if (!running) {
					// stop() came while claiming: hand the rows straight back.
					await release(rows.map((row) => Number(row.id)));
					break;
				}
				for (const row of rows) {
					const item: ClaimedItem = {
						id: Number(row.id),
						customerId: row.customer_id as string,
						kind: row.kind,
						payload: row.payload,
						attempts: row.attempts,
					};
					const prefetched = prefetchedOf(row);
					if (prefetched) item.prefetched = prefetched;
					const target = row.target === "group" ? "group" : "dm";
					take(target);
					launch(item, target, row.has_next !== false, wakesBefore);
				}
				if (rows.length === room || (grouped.length > 0 && grouped.length === groupRoom))
					again = true;
				if (!running) break;
			} while (again && running);
		} catch (error) {
			log.warn("outbox claim failed", { error: String(error) });
		} finally {
			pumping = false;
		}
	}

	return {
		handOff,
		settle: settleFinishes,
		wake: () => {
			wakes++;
			pump();
		},
		start() {
			if (running) return;
			running = true;
			stopping = false;
			timer = setInterval(() => void pump(), idlePollMs);
			heartbeat = setInterval(() => void renewLeases(), Math.max(50, Math.floor(leaseMs / 3)));
			repairTimer = setInterval(() => void repairHeads(), options.repairMs ?? 60_000);
			repairTimer.unref?.();
			if (groupLock) {
				lockTimer = setInterval(() => void checkGroupLock(), options.groupLockCheckMs ?? 2000);
				void checkGroupLock();
			}
			// Heads left wrong by anything outside the write paths (a restore, rows written by
			// hand) are re-derived at once, not only after the first sweep interval.
			void repairHeads();
			void pump();
		},
		async stop() {
			running = false;
			if (timer) clearInterval(timer);
			if (lockTimer) clearInterval(lockTimer);
			if (repairTimer) clearInterval(repairTimer);
			for (const state of Object.values(targets)) {
				if (state.probeTimer) clearTimeout(state.probeTimer);
				state.probeTimer = undefined;
			}
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
			await settleFinishes();
			if (heartbeat) clearInterval(heartbeat);
			if (groupLock) {
				groupSender = false;
				await groupLock.release().catch(() => undefined);
			}
		},
	};
}
