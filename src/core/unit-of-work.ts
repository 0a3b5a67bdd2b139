/**
 * One command = one transaction. Facts are written through `work.tx`; events for sockets and
 * outbox wake-ups are collected and released only after the commit succeeds, so nothing is ever
 * announced that the database does not hold.
 */

import { sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import { retryingConflicts } from "../db/errors.ts";
import type { Texts } from "../i18n/texts.ts";
import { enqueueAll } from "../outbox/enqueue.ts";
import { type OutboxItem, type OwedItem, withoutRepeats } from "../outbox/items.ts";
import type { BusinessHours } from "./business-hours.ts";
import type { CustomerEvent, EventBus } from "./events.ts";
import type { GroupCommit } from "./group-commit.ts";
import type { CustomerMessageInput, RecordedMessage } from "./stored-message.ts";
import type { SupportGroups } from "./support-groups.ts";

export interface TimerPolicy {
	slaReminders: number[];
	waitingReminder: number;
	waitingAutoclose: number;
	businessHours?: BusinessHours;
	/** Answer customers who open or reopen a conversation outside business hours (away.ts). */
	away?: boolean;
	/** `assignment.auto` = "first-reply": an operator answering an unassigned ticket takes it. */
	autoAssign?: boolean;
}

export interface CoreDeps {
	database: Database;
	/** Texts in the desk's default locale, for what the core itself writes (system messages). */
	texts: Texts;
	/** Timer offsets (SLA reminders, waiting reminder and auto-close) and opening hours. */
	policy: TimerPolicy;
	bus: EventBus;
	/**
	 * Called after a commit that enqueued Telegram work, so the worker need not wait to poll.
	 * `queuedBehind`: some item waits behind its queue's head (absent: it may).
	 */
	wakeOutbox: (queuedBehind?: boolean) => void;
	/**
	 * Called after a commit that armed a timer sooner than the policy's delays allow for (a merge
	 * re-arms from the older history): the timer worker sleeps up to the shortest delay.
	 */
	wakeTimers?: () => void;
	/**
	 * The group commit of customers' messages (`createMessageBatches`, one per service); absent:
	 * each message is stored in a transaction of its own.
	 */
	messageBatches?: MessageBatches;
	/** The support groups a new customer may join (several groups); absent: the default one. */
	groups?: SupportGroups;
}

/** Customers' messages that arrive while a batch commits, gathered into the next one. */
export type MessageBatches = GroupCommit<CustomerMessageInput, RecordedMessage>;

export interface Work {
	tx: Tx;
	texts: Texts;
	policy: TimerPolicy;
	/** The support groups a new customer may join (`chooseGroup`). */
	groups?: SupportGroups;
	emit(customerId: string, event: CustomerEvent): void;
	/**
	 * Owes an item. Items owed are filed together, in the order owed, by one statement before the
	 * commit (or at `fileOwed`); a card edit or a rename owed twice for one customer is filed once.
	 */
	enqueue(customerId: string, item: OutboxItem): Promise<void>;
	/** Owes items of several queues, in the order given. */
	enqueueAll(owed: readonly OwedItem[]): Promise<void>;
	/**
	 * Files the items owed so far now: before a statement that files, moves or deletes items
	 * itself, so that the order and the queues they end in are as the code reads.
	 */
	fileOwed(): Promise<void>;
	/**
	 * Queued work changed without `enqueue` (a statement filed items, /retry revived some): wake
	 * the worker after commit. `queuedBehind` false: every new item became its queue's head.
	 */
	outboxChanged(queuedBehind?: boolean): void;
	/** A timer may now be due sooner than the policy's shortest delay: wake the timer worker. */
	timersChanged(): void;
}

/** Returned instead of running a command for a Telegram update that was already applied. */
export const ALREADY_APPLIED = Symbol("already applied");

/** Runs `fn` in a transaction and publishes what it emitted after the commit. */
export async function commit<T>(deps: CoreDeps, fn: (work: Work) => Promise<T>): Promise<T> {
	return run(deps, fn, undefined) as Promise<T>;
}

/**
 * Like `commit`, for the effects of one Telegram update: records the update id in the same
 * transaction and skips the update when it was applied before, so redelivery is harmless.
 */
export function commitUpdate<T>(
	deps: CoreDeps,
	updateId: number,
	fn: (work: Work) => Promise<T>,
): Promise<T | typeof ALREADY_APPLIED> {
	return run(deps, fn, updateId);
}

function run<T>(
	deps: CoreDeps,
	fn: (work: Work) => Promise<T>,
	updateId: number | undefined,
): Promise<T | typeof ALREADY_APPLIED> {
	return retryingConflicts(() => runOnce(deps, fn, updateId));
}

async function runOnce<T>(
	deps: CoreDeps,
	fn: (work: Work) => Promise<T>,
	updateId: number | undefined,
): Promise<T | typeof ALREADY_APPLIED> {
	const events: [string, CustomerEvent][] = [];
	let enqueued = false;
	let queuedBehind = false;
	let timersChanged = false;
	const result = await deps.database.db.transaction(async (tx) => {
		let owed: OwedItem[] = [];
		const fileOwed = async () => {
			if (owed.length === 0) return;
			const filing = withoutRepeats(owed);
			owed = [];
			if (!(await enqueueAll(tx, filing))) queuedBehind = true;
			enqueued = true;
		};
		if (updateId !== undefined) {
			const fresh = await deps.database.query(
				sql`insert into processed_updates (update_id) values (${updateId})
				on conflict do nothing returning update_id`,
				tx,
			);
			if (fresh.length === 0) return ALREADY_APPLIED;
		}
		const value = await fn({
			tx,
			texts: deps.texts,
			policy: deps.policy,
			...(deps.groups ? { groups: deps.groups } : {}),
			emit: (customerId, event) => events.push([customerId, event]),
			enqueue: async (customerId, item) => {
				owed.push({ customerId, item });
			},
			enqueueAll: async (more) => {
				owed.push(...more);
			},
			fileOwed,
			outboxChanged: (behind = true) => {
				enqueued = true;
				if (behind) queuedBehind = true;
			},
			timersChanged: () => {
				timersChanged = true;
			},
		});
		await fileOwed();
		return value;
	});
	for (const [customerId, event] of events) deps.bus.publish(customerId, event);
	if (enqueued) deps.wakeOutbox(queuedBehind);
	if (timersChanged) deps.wakeTimers?.();
	return result;
}
