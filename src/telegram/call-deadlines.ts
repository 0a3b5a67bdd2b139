/**
 * Deadlines for Bot API calls in flight, and one switch that ends them all (shutdown). One
 * sweep aborts the calls past their deadline, instead of a timer and a combined signal per call
 * (`AbortSignal.any` + `AbortSignal.timeout` cost a measurable share of each call's CPU). A call
 * is aborted between its deadline and a quarter of the timeout (at most a second) later.
 */
export interface CallDeadlines {
	/** A signal for one call; `done()` once it settled. */
	start(): { signal: AbortSignal; done(): void };
	/** Aborts every call in flight and every later one. */
	abortAll(reason?: unknown): void;
}

export function createCallDeadlines(timeoutMs: number): CallDeadlines {
	const inFlight = new Map<AbortController, number>();
	const sweepMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
	let sweeper: ReturnType<typeof setInterval> | undefined;
	let ended: { reason: unknown } | undefined;

	const sweep = () => {
		if (inFlight.size === 0) {
			clearInterval(sweeper);
			sweeper = undefined;
			return;
		}
		const now = performance.now();
		for (const [controller, deadline] of inFlight) {
			if (deadline > now) continue;
			inFlight.delete(controller);
			controller.abort(new DOMException("The operation timed out.", "TimeoutError"));
		}
	};

	return {
		start() {
			const controller = new AbortController();
			if (ended) controller.abort(ended.reason);
			else {
				inFlight.set(controller, performance.now() + timeoutMs);
				if (!sweeper) {
					sweeper = setInterval(sweep, sweepMs);
					sweeper.unref?.();
				}
			}
			return { signal: controller.signal, done: () => inFlight.delete(controller) };
		},
		abortAll(reason = new DOMException("This operation was aborted", "AbortError")) {
			ended = { reason };
			for (const controller of inFlight.keys()) controller.abort(reason);
			inFlight.clear();
		},
	};
}
