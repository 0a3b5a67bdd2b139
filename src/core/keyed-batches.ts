/**
 * Natural batching of one statement that many callers run at once (README "accept batches"):
 * requests wait in a queue only while every batch slot is busy (or until the event loop's turn
 * ends), and the next free slot takes everything queued (up to `size`) as one batch. At a low
 * rate each request runs alone and at once; under load one statement, one round trip and one
 * commit serve many requests, which is what lets PostgreSQL keep up (a WAL flush, executor
 * start-up and a round trip per request were most of its cost).
 *
 * A batch holds at most one request per key, and a key with a request in flight is not batched
 * again until it settles: requests of one key run one after another, in the order submitted, and
 * two batches running at once never touch the same rows (so never wait on each other's locks).
 *
 * A batch that fails is split: each of its requests runs again alone, so one bad request fails
 * only its own caller.
 */

/** Runs one batch; the answer for each request at the same index (undefined: no answer). */
export type BatchRunner<Req, Res> = (
	batch: readonly Req[],
) => Promise<readonly (Res | undefined)[]>;

interface Pending<Req, Res> {
	request: Req;
	key: string;
	resolve(result: Res | undefined): void;
	reject(error: unknown): void;
}

export interface BatchLimits {
	/** Batches running at once. */
	inFlight: number;
	/** Requests per batch. */
	size: number;
	/**
	 * Milliseconds a request that would run alone may wait for others while requests arrive often
	 * (on average less than this apart, so the wait can gather one), whether or not a batch is
	 * running: three times the average gap, at most this; 0: never waits.
	 */
	lingerMs: number;
}

/** Weight of the newest gap between two requests in their running average. */
const GAP_WEIGHT = 0.25;
/**
 * A wait is this many average gaps (at most `lingerMs`): about three more requests per statement.
 * Two, with 40 ms at most, gathered two or three at 50/s and lost the race for the third half the
 * time (docs/BENCHMARKS.md, fifteenth pass).
 */
const GAPS_WAITED = 3;

export class KeyedBatches<Req, Res> {
	readonly #queue: Pending<Req, Res>[] = [];
	readonly #busyKeys = new Set<string>();
	#running = 0;
	#scheduled = false;
	#lingering: ReturnType<typeof setTimeout> | undefined;
	#lastArrival = Number.NEGATIVE_INFINITY;
	#lastKey: string | undefined;
	#averageGap = Number.POSITIVE_INFINITY;

	constructor(
		private readonly run: BatchRunner<Req, Res>,
		private readonly keyOf: (request: Req) => string,
		private readonly limits: BatchLimits,
		private readonly now: () => number = () => performance.now(),
	) {}

	submit(request: Req): Promise<Res | undefined> {
		return new Promise((resolve, reject) => {
			const key = this.keyOf(request);
			this.#arrived(key);
			this.#queue.push({ request, key, resolve, reject });
			const full = this.#queue.length >= this.limits.size;
			if (full) this.#stopWaiting();
			if (this.#scheduled) return;
			this.#scheduled = true;
			const go = () => {
				this.#scheduled = false;
				this.#lingering = undefined;
				this.#pump();
			};
			// Never at once: after the events already received (a burst's frames arrive in one turn
			// of the event loop), so they form one batch rather than a first one alone. On a busy
			// desk the statement would run alone: it waits for about the next three requests
			// instead, at most `lingerMs` (README "accept batches"), also when a batch is running (at
			// 50/s a request that came during another's statement went alone: a third of the
			// statements). Only where the wait can gather one: with requests farther apart than
			// `lingerMs`, it would only add latency. The wait shrinks with the gaps between requests,
			// so a burst is not held up.
			const busy = this.#averageGap < this.limits.lingerMs;
			const wait = Math.min(this.limits.lingerMs, GAPS_WAITED * this.#averageGap);
			const alone = this.#queue.length === 1;
			if (busy && alone && !full && wait >= 1) this.#lingering = setTimeout(go, wait);
			else setImmediate(go);
		});
	}

	/** Ends a wait for the next requests, if one is pending: what is queued is scheduled anew. */
	#stopWaiting() {
		if (this.#lingering === undefined) return;
		clearTimeout(this.#lingering);
		this.#lingering = undefined;
		this.#scheduled = false;
	}

	/**
	 * Keeps the running average of the time between requests of different keys: one key's
	 * requests never share a batch, so one sender alone, however fast, never makes a request wait.
	 */
	#arrived(key: string) {
		const at = this.now();
		const gap = at - this.#lastArrival;
		const sameKey = key === this.#lastKey;
		this.#lastArrival = at;
		this.#lastKey = key;
		if (sameKey || !Number.isFinite(gap)) return;
		this.#averageGap = Number.isFinite(this.#averageGap)
			? this.#averageGap + (gap - this.#averageGap) * GAP_WEIGHT
			: gap;
	}

	#pump() {
		while (this.#running < this.limits.inFlight) {
			const batch = this.#take();
			if (batch.length === 0) return;
			this.#running++;
			void this.#execute(batch).finally(() => {
				this.#running--;
				for (const pending of batch) this.#busyKeys.delete(pending.key);
				// A request waiting alone for the next ones keeps waiting; several (a burst's tail,
				// queued while both slots were busy) would not run alone, so they go now.
				if (this.#queue.length > 1) this.#stopWaiting();
				if (this.#lingering === undefined) this.#pump();
			});
		}
	}

	/** The queue's first request of each key not in flight, in order, up to the batch size. */
	#take(): Pending<Req, Res>[] {
		const batch: Pending<Req, Res>[] = [];
		let kept = 0;
		for (const pending of this.#queue) {
			if (batch.length < this.limits.size && !this.#busyKeys.has(pending.key)) {
				this.#busyKeys.add(pending.key);
				batch.push(pending);
			} else this.#queue[kept++] = pending;
		}
		this.#queue.length = kept;
		return batch;
	}

	async #execute(batch: Pending<Req, Res>[]) {
		try {
			const results = await this.run(batch.map((pending) => pending.request));
			batch.forEach((pending, index) => {
				pending.resolve(results[index]);
			});
		} catch (error) {
			if (batch.length === 1) {
				batch[0]?.reject(error);
				return;
			}
			await Promise.all(batch.map((pending) => this.#alone(pending)));
		}
	}

	async #alone(pending: Pending<Req, Res>) {
		try {
			const [result] = await this.run([pending.request]);
			pending.resolve(result);
		} catch (error) {
			pending.reject(error);
		}
	}
}
