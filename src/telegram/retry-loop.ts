/**
 * The loop behind the poller's leader election and the webhook registration: an attempt, a pause,
 * again, until the signal aborts or an attempt says it is done.
 */

/**
 * Runs `attempt` (with how many attempts came before it) while `signal` is not aborted, pausing
 * after each for the milliseconds it returns, until it returns "done". An abort ends a pause early.
 */
export async function retryLoop(
	signal: AbortSignal,
	attempt: (previous: number) => Promise<number | "done">,
): Promise<void> {
	for (let previous = 0; !signal.aborted; previous++) {
		const pause = await attempt(previous);
		if (pause === "done") return;
		await sleep(pause, signal);
	}
}

const sleep = (ms: number, signal: AbortSignal) =>
	new Promise<void>((resolve) => {
		const timer = setTimeout(done, ms);
		signal.addEventListener("abort", done, { once: true });
		function done() {
			clearTimeout(timer);
			signal.removeEventListener("abort", done);
			resolve();
		}
	});
