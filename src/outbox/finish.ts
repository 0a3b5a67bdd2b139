/**
 * Finishes of delivered items, collected and then written by one statement that records every
 * copy and finishes every item (`outbox_finish` locks the heads first, then advances them).
 *
 * A finish that a delivery waits on (its customer has more queued) waits a few milliseconds at
 * most. One with nothing behind it is deferred: at a light load each message is otherwise alone,
 * and its finish is a statement and a commit of its own, a quarter of what PostgreSQL and the
 * service spent per message at 50 messages/s. Anything that needs the heads or copies as
 * deliveries left them (a claim, an incoming update, a stop) writes them first (`settle`).
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { ClaimedItem, DeliveredCard, DeliveredCopy, OutboxHandler } from "./delivery.ts";
import { type Finished, finishItems, retrying } from "./statements.ts";

/** Finishes collected before one statement runs them all. */
const MAX_FINISH_BATCH = 64;
/** Tries of a deferred finish that fails (a second apart) before its lease is left to run out. */
const DEFERRED_FINISH_ATTEMPTS = 5;

interface PendingFinish extends Finished {
	resolve(): void;
	reject(error: unknown): void;
}

export interface FinishOptions {
	/** How long finishes that a delivery waits on are collected into one statement. */
	batchMs: number;
	/** How long the finish of an item with nothing behind it may wait for company. */
	deferMs: number;
	/** Items in flight now: once all of them wait in the batch, nothing else can join it. */
	inFlight(): number;
	/**
	 * Whether a finish may be deferred now: only while the worker runs (a stop writes at once) and
	 * while this instance sends group work. Elsewhere the head it advances may be a group item,
	 * which only the group sender claims, and nothing would tell that instance when it is ready.
	 */
	mayDefer(): boolean;
	/** Whether a deferred finish that failed is tried again (while the worker runs). */
	mayRetry(): boolean;
}

export class FinishBatcher {
	private batch: PendingFinish[] = [];
	/** Entries of the batch that a delivery waits on (the rest are deferred). */
	private awaited = 0;
	private timer: ReturnType<typeof setTimeout> | undefined;
	private dueAt = Number.POSITIVE_INFINITY;
	/** Finish statements running now, and how many of them hold deferred finishes. */
	private readonly running = new Set<Promise<void>>();
	private deferredRunning = 0;

	constructor(
		private readonly database: Database,
		private readonly log: Logger,
		private readonly options: FinishOptions,
	) {}

	/**
	 * Finishes these items with these copies. `alone`: their queue has nothing behind them, so no
	 * delivery waits on this finish and it may be deferred (then it resolves at once).
	 */
	finish(ids: number[], copies: DeliveredCopy[], alone: boolean, cards: DeliveredCard[] = []) {
		if (alone && this.options.mayDefer()) {
			this.defer({ ids, copies, cards }, 1);
			return Promise.resolve();
		}
		return new Promise<void>((resolve, reject) => {
			this.batch.push({ ids, copies, cards, resolve, reject });
			this.awaited++;
			// Every item in flight already waits in the batch (a light load): nothing can join it
			// but work not started yet, so the wait would only add a wake-up per message.
			if (this.batch.length >= MAX_FINISH_BATCH || this.awaited >= this.options.inFlight())
				void this.flush();
			else this.flushWithin(this.options.batchMs);
		});
	}

	/**
	 * Deferred finishes not yet written, or being written: no delivery waits on them, so claims
	 * (which must see the heads they advance) write and wait for them first.
	 */
	deferredPending(): boolean {
		return this.batch.length > this.awaited || this.deferredRunning > 0;
	}

	/** Every finish collected so far, written: the heads and copies are as deliveries left them. */
	async settle(): Promise<void> {
		if (this.batch.length === 0 && this.running.size === 0) return;
		await Promise.all([this.flush(), ...this.running]);
	}

	/**
	 * Defers a finish; one that fails is tried again a second later (the send happened: writing
	 * its record avoids sending it twice), a few times, while its lease still holds the item.
	 */
	private defer(finished: Finished, attempt: number) {
		const { ids } = finished;
		this.batch.push({
			...finished,
			resolve: () => {},
			reject: (error) => {
				if (attempt < DEFERRED_FINISH_ATTEMPTS && this.options.mayRetry()) {
					const retry = setTimeout(() => this.defer(finished, attempt + 1), 1000);
					retry.unref?.();
					return;
				}
				this.log.error("could not record a delivery; once its lease runs out it is sent again", {
					ids,
					error: String(error),
				});
			},
		});
		if (this.batch.length >= MAX_FINISH_BATCH) void this.flush();
		else this.flushWithin(this.options.deferMs);
	}

	private flushWithin(ms: number) {
		const at = Date.now() + ms;
		if (this.timer && this.dueAt <= at) return;
		if (this.timer) clearTimeout(this.timer);
		this.dueAt = at;
		this.timer = setTimeout(() => void this.flush(), ms);
	}

	private flush(): Promise<void> {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		this.dueAt = Number.POSITIVE_INFINITY;
		const entries = this.batch;
		const deferred = entries.length > this.awaited;
		this.batch = [];
		this.awaited = 0;
		if (entries.length === 0) return Promise.resolve();
		if (deferred) this.deferredRunning++;
		const run: Promise<void> = this.write(entries).finally(() => {
			this.running.delete(run);
			if (deferred) this.deferredRunning--;
		});
		this.running.add(run);
		return run;
	}

	private async write(entries: PendingFinish[]) {
		try {
			await retrying(() => finishItems(this.database, entries));
			for (const entry of entries) entry.resolve();
		} catch (error) {
			// One bad entry must not fail the others: each on its own.
			if (entries.length === 1) entries[0]?.reject(error);
			else
				for (const entry of entries)
					await retrying(() => finishItems(this.database, [entry])).then(
						entry.resolve,
						entry.reject,
					);
		}
	}
}

/**
 * Runs an item's handler and finishes the item: in the handler's own final transaction
 * (`complete`, so nothing is sent again after a crash), with the copies it made (`finish`), or,
 * when it did neither, once it returns. `alone`: nothing is queued behind the item.
 */
export async function runHandler(
	handler: OutboxHandler,
	item: ClaimedItem,
	finishes: FinishBatcher,
	alone: boolean,
	groupIdle: () => boolean,
	filedForIdle: () => void,
): Promise<void> {
	let finished = false;
	await handler({
		item,
		alone,
		groupIdle: () => alone && groupIdle(),
		filedForIdle,
		complete: async (tx) => {
			await finishItems(tx, [{ ids: [item.id], copies: [] }]);
			finished = true;
		},
		finish: async (copies, alsoDone, card) => {
			await finishes.finish([item.id, ...(alsoDone ?? [])], copies, alone, card ? [card] : []);
			finished = true;
		},
	});
	if (!finished) await finishes.finish([item.id], [], alone);
}
