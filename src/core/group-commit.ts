/**
 * Group commit: requests that arrive while a batch is being committed are gathered into the next
 * batch. Nothing waits on a timer: a request on an idle queue runs at once (after the current turn
 * of the event loop, so frames received together start as one batch). Under load one
 * transaction, one round trip per statement and one commit serve many requests, which is what
 * lets PostgreSQL keep up with a burst.
 *
 * A batch holds at most one request per key, and a key with a request in flight is not batched
 * again until it settles: the requests of one key run one after another, in the order submitted,
 * and two batches running at once never touch the same key's rows.
 *
 * A batch that fails is split: each of its requests runs again alone, so one bad request fails
 * only its own caller. A request the batch leaves unanswered (`undefined`: it could not be served
 * together with the others, e.g. its row was held by another transaction) runs again alone too,
 * outside the batch's slot, so it holds up neither the others nor the next batch.
 */

/** Runs one batch; the answer for each request at the same index (undefined: run it alone). */
export type BatchRunner<Req, Res> = (
	batch: readonly Req[],
) => Promise<readonly (Res | undefined)[]>;

export interface GroupCommitOptions<Req, Res> {
	run: BatchRunner<Req, Res>;
	/** Requests of one key never share a batch and never run at once. */
	keyOf: (request: Req) => string;
	/** Requests per batch. */
	size: number;
	/** Batches running at once: one commits while the next gathers what arrives meanwhile. */
	inFlight: number;
}

interface Pending<Req, Res> {
	request: Req;
	key: string;
	resolve(result: Res): void;
	reject(error: unknown): void;
}

export class GroupCommit<Req, Res> {
	readonly #queue: Pending<Req, Res>[] = [];
	readonly #busyKeys = new Set<string>();
	#running = 0;
	#scheduled = false;

	constructor(private readonly options: GroupCommitOptions<Req, Res>) {}

	submit(request: Req): Promise<Res> {
		return new Promise((resolve, reject) => {
			this.#queue.push({ request, key: this.options.keyOf(request), resolve, reject });
			if (this.#scheduled) return;
			this.#scheduled = true;
			setImmediate(() => {
				this.#scheduled = false;
				this.#pump();
			});
		});
	}

	#pump() {
		while (this.#running < this.options.inFlight) {
			const batch = this.#take();
			if (batch.length === 0) return;
			this.#running++;
			void this.#execute(batch).finally(() => {
				this.#running--;
				this.#pump();
			});
		}
	}

	/** The queue's first request of each key not in flight, in order, up to the batch size. */
	#take(): Pending<Req, Res>[] {
		const batch: Pending<Req, Res>[] = [];
		let kept = 0;
		for (const pending of this.#queue) {
			if (batch.length < this.options.size && !this.#busyKeys.has(pending.key)) {
				this.#busyKeys.add(pending.key);
				batch.push(pending);
			} else this.#queue[kept++] = pending;
		}
		this.#queue.length = kept;
		return batch;
	}

	async #execute(batch: Pending<Req, Res>[]) {
		let results: readonly (Res | undefined)[] | undefined;
		let failure: unknown;
		try {
			results = await this.options.run(batch.map((pending) => pending.request));
		} catch (error) {
			failure = error;
		}
		const [only] = batch;
		if (!results && only && batch.length === 1) {
			await this.#settle(only, () => Promise.reject(failure));
			return;
		}
		batch.forEach((pending, index) => {
			const result = results?.[index];
			void this.#settle(pending, () =>
				result !== undefined ? Promise.resolve(result) : this.#alone(pending.request),
			);
		});
	}

	async #alone(request: Req): Promise<Res> {
		const [result] = await this.options.run([request]);
		if (result === undefined) throw new Error("a request run alone got no answer");
		return result;
	}

	/** Answers a request, then frees its key for the next request of the same key. */
	async #settle(pending: Pending<Req, Res>, answer: () => Promise<Res>) {
		try {
			pending.resolve(await answer());
		} catch (error) {
			pending.reject(error);
		} finally {
			this.#busyKeys.delete(pending.key);
			if (this.#queue.length > 0) this.#pump();
		}
	}
}
