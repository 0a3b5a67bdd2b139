/**
 * A first-come, first-served gate by size: work on `bytes` waits until the bytes already in
 * flight leave room for it within the budget. One piece of work always passes, however large, so
 * nothing waits forever.
 */
export interface ByteGate {
	/** Waits for room for `bytes`; the function returned gives it back (once). */
	enter(bytes: number): Promise<() => void>;
}

/** `left` is told the size of each piece of work that has left the gate. */
export function createByteGate(budget: number, left?: (bytes: number) => void): ByteGate {
	let inFlight = 0;
	const waiting: { bytes: number; admit: () => void }[] = [];
	const fits = (bytes: number) => inFlight === 0 || inFlight + bytes <= budget;
	const admitWaiting = () => {
		// In order: a large piece of work is not overtaken forever by a stream of small ones.
		while (waiting.length > 0 && fits((waiting[0] as { bytes: number }).bytes)) {
			const next = waiting.shift() as (typeof waiting)[number];
			inFlight += next.bytes;
			next.admit();
		}
	};
	return {
		async enter(bytes) {
			if (waiting.length === 0 && fits(bytes)) inFlight += bytes;
			else await new Promise<void>((admit) => waiting.push({ bytes, admit }));
			let done = false;
			return () => {
				if (done) return;
				done = true;
				inFlight -= bytes;
				admitWaiting();
				left?.(bytes);
			};
		},
	};
}
