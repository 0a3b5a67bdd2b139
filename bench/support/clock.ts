/**
 * Time and counting helpers shared by the benchmarks: a high-resolution wall clock that agrees
 * across processes, percentiles, and the two load shapes (bounded concurrency, fixed rate).
 */

/** Milliseconds since the epoch with sub-millisecond resolution (comparable across processes). */
export const now = () => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => Bun.sleep(ms);

export interface Summary {
	count: number;
	p50: number;
	p99: number;
	max: number;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(values: readonly number[]): Summary {
	const sorted = [...values].sort((a, b) => a - b);
	return {
		count: sorted.length,
		p50: percentile(sorted, 50),
		p99: percentile(sorted, 99),
		max: sorted.at(-1) ?? Number.NaN,
	};
}

export interface LoadResult {
	/** Per-job latency in ms, of the jobs that succeeded. */
	latencies: number[];
	errors: number;
	firstError?: string;
	elapsedMs: number;
}

/** Runs jobs 0..total-1 with at most `concurrency` in flight (a closed loop). */
export async function closedLoop(
	total: number,
	concurrency: number,
	job: (index: number) => Promise<void>,
): Promise<LoadResult> {
	const result: LoadResult = { latencies: [], errors: 0, elapsedMs: 0 };
	let next = 0;
	const started = now();
	const lane = async () => {
		while (next < total) {
			const index = next++;
			const at = now();
			try {
				await job(index);
				result.latencies.push(now() - at);
			} catch (error) {
				result.errors++;
				result.firstError ??= String(error);
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
	result.elapsedMs = now() - started;
	return result;
}

/**
 * Calls `fire(0..total-1)` on a fixed schedule of `perSecond` (an open loop: nothing waits for
 * an answer). Resolves when the last one has been fired.
 */
export async function paced(
	total: number,
	perSecond: number,
	fire: (index: number) => void,
): Promise<void> {
	const started = now();
	let fired = 0;
	while (fired < total) {
		const due = Math.min(total, Math.floor(((now() - started) * perSecond) / 1000) + 1);
		while (fired < due) fire(fired++);
		if (fired < total) await sleep(1);
	}
}

/** Resolves when `done()` holds, or after `timeoutMs`; answers whether it held. */
export async function until(done: () => boolean, timeoutMs: number, stepMs = 20) {
	const deadline = now() + timeoutMs;
	while (!done()) {
		if (now() > deadline) return false;
		await sleep(stepMs);
	}
	return true;
}
