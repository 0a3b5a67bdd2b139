/**
 * What the outbox worker is given (its database, its delivery handlers, its budgets and locks)
 * and its tunings, with their defaults in one place.
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { ClassifyFailure, OutboxHandler } from "./delivery.ts";
import type { FloodBudget, GroupKey } from "./flood-budget.ts";
import type { SenderLock } from "./sender-lock.ts";

/** A support group as the claim sees it: its heads' key and its flood budget. */
export interface OutboxGroup {
	/** `outbox_heads.group_id` of its queues: 0 for the default group. */
	key: number;
	budget: GroupKey;
}

/** The one group of a desk that names none. */
export const DEFAULT_GROUP: OutboxGroup = { key: 0, budget: "group" };

/** What a door hands the worker to deliver its items (the Telegram door's `deliveries`). */
export interface OutboxDeliveries {
	/** One handler per item kind. */
	handlers: Record<string, OutboxHandler>;
	/** What a handler's error means for its item. Default: every failure is worth another try. */
	classifyFailure?: ClassifyFailure;
	/** Flood budgets: group work is claimed only while the group has calls left. */
	budget?: FloodBudget;
	/** The support groups, the default first; absent: one (`DEFAULT_GROUP`). */
	groups?: () => readonly OutboxGroup[];
	/** Aborts the calls in flight (stop() after its grace). */
	abortCalls?: () => void;
	/**
	 * Held by the one instance that sends group work (several instances on one PostgreSQL).
	 * Without it this instance always sends group work (embedded PGlite is one process).
	 */
	groupLock?: SenderLock;
	/** Told of each item delivered (metrics). */
	onDelivered?: (kind: string) => void;
}

export interface OutboxWorkerOptions extends OutboxDeliveries {
	database: Database;
	log: Logger;
	/** Items delivered at once (across different customers). Default 128. */
	concurrency?: number;
	/** How long a claimed item stays leased to this instance. Default 60 s. */
	leaseMs?: number;
	/**
	 * Poll interval for work this instance was not woken for: the safety net behind the wake-ups
	 * (commits here, other instances' notices, retry and budget timers, becoming the group
	 * sender), e.g. items whose lease a crashed instance left to expire. Default 30 s: every
	 * poll is a statement, and an idle desk's statements are most of what PostgreSQL does for it.
	 */
	idlePollMs?: number;
	/** How often a missing group lock is tried again and a held one re-checked. Default 2 s. */
	groupLockCheckMs?: number;
	/** How long stop() lets items in flight finish before it aborts their calls. Default 5 s. */
	stopGraceMs?: number;
	/** How long finishes that a delivery waits on are collected into one statement. Default 2 ms. */
	finishBatchMs?: number;
	/**
	 * How long the finish of an item with nothing behind it may wait to share a statement with
	 * later finishes. Default 100 ms, at most a quarter of the lease. A kill -9 in that window
	 * sends those items again; a graceful stop writes them.
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

/** The tunings with every default applied. */
export function tunings(options: OutboxWorkerOptions) {
	const leaseMs = options.leaseMs ?? 60_000;
	return {
		concurrency: options.concurrency ?? 128,
		leaseMs,
		idlePollMs: options.idlePollMs ?? 30_000,
		groupLockCheckMs: options.groupLockCheckMs ?? 2000,
		stopGraceMs: options.stopGraceMs ?? 5000,
		finishBatchMs: options.finishBatchMs ?? 2,
		finishDeferMs: Math.min(options.finishDeferMs ?? 100, leaseMs / 4),
		repairMs: options.repairMs ?? 60_000,
		breaker: {
			outageAfter: options.outageAfter ?? 3,
			probeFirstMs: options.probeFirstMs ?? 500,
			probeMaxMs: options.probeMaxMs ?? 1000,
		},
	};
}
