/**
 * When a request waits for others (keyed-batches.ts, README "accept batches"): on a quiet desk, in
 * a burst, or once a batch is full, it runs without waiting; on a busy desk, one that would run
 * alone waits for the next requests and shares their batch, also while a batch runs. The clock that
 * tells quiet from busy is the test's; the waits are real timers (three times the test clock's average
 * gap, at most `lingerMs`), set long where a wait would make the test time out rather than pass.
 */
import { describe, expect, test } from "bun:test";
import { type BatchLimits, KeyedBatches } from "../../src/core/keyed-batches.ts";

interface Request {
	key: string;
	name: string;
}

/** A turn of the event loop after the ones already queued (what `setImmediate` waits for). */
const nextTurns = async (turns = 2) => {
	for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** `holdFirst`: the first batch runs until `releaseFirst()` (a statement still running). */
function batcher(limits: BatchLimits, holdFirst = false) {
	let time = 0;
	let releaseFirst = () => {};
	const firstHeld = new Promise<void>((resolve) => {
		releaseFirst = resolve;
	});
	const batches: string[][] = [];
	const batches$ = new KeyedBatches<Request, string>(
		async (batch) => {
			batches.push(batch.map((request) => request.name));
			if (holdFirst && batches.length === 1) await firstHeld;
			return batch.map((request) => `done ${request.name}`);
		},
		(request) => request.key,
		limits,
		() => time,
	);
	return {
		batches,
		releaseFirst,
		/** Submits at the test's clock, `after` milliseconds after the previous request. */
		submit(name: string, after: number, key = name) {
			time += after;
			return batches$.submit({ key, name });
		},
	};
}

/**
 * "a" runs and is held; then "b", on a busy desk, would run alone: it waits (a long time) for the
 * next requests.
 */
async function aHeldThenBWaiting(desk: ReturnType<typeof batcher>) {
	const a = desk.submit("a", 0);
	await nextTurns();
	const b = desk.submit("b", FOREVER / 2);
	await nextTurns();
	return { a, b };
}

/** Long enough that a request which waited for it would make the test time out. */
const FOREVER = 60_000;

describe("keyed batches: waiting for the next requests", () => {
	test("a quiet desk: a request runs without waiting", async () => {
		const desk = batcher({ inFlight: 2, size: 100, lingerMs: FOREVER });
		expect(await desk.submit("a", 0)).toBe("done a");
		// Requests far apart (more than the longest wait on average) keep the desk quiet.
		expect(await desk.submit("b", 3 * FOREVER)).toBe("done b");
		expect(desk.batches).toEqual([["a"], ["b"]]);
	});

	test("requests farther apart than the longest wait never wait: the wait could gather none", async () => {
		const desk = batcher({ inFlight: 2, size: 100, lingerMs: FOREVER });
		await desk.submit("a", 0);
		// One and a half times the longest wait apart: a wait (at most that long) would end before
		// the next request came, so it would only add latency.
		expect(await desk.submit("b", 1.5 * FOREVER)).toBe("done b");
		expect(await desk.submit("c", 1.5 * FOREVER)).toBe("done c");
		expect(desk.batches).toEqual([["a"], ["b"], ["c"]]);
	});

	test("a busy desk: a request that would run alone waits and shares the next ones' batch", async () => {
		const desk = batcher({ inFlight: 2, size: 100, lingerMs: 30 });
		await desk.submit("a", 0);
		await nextTurns(); // "a"'s batch has ended.
		// 5 ms after the previous: requests come often, so "b" waits instead of running alone…
		const b = desk.submit("b", 5);
		await nextTurns();
		// …and "c", received in a later turn of the event loop, goes in the same statement.
		const c = desk.submit("c", 5);
		expect(await Promise.all([b, c])).toEqual(["done b", "done c"]);
		expect(desk.batches).toEqual([["a"], ["b", "c"]]);
	});

	test("one sender alone never waits, however fast: its requests cannot share a batch", async () => {
		const desk = batcher({ inFlight: 2, size: 100, lingerMs: FOREVER });
		for (let i = 0; i < 5; i++) expect(await desk.submit(`m${i}`, 1, "one")).toBe(`done m${i}`);
		expect(desk.batches).toEqual([["m0"], ["m1"], ["m2"], ["m3"], ["m4"]]);
	});

	test("a burst is not held up: the wait shrinks with the gaps between requests", async () => {
		const desk = batcher({ inFlight: 2, size: 100, lingerMs: FOREVER });
		await desk.submit("a", 0);
		await nextTurns();
		// A tenth of a millisecond apart: busy, and the wait (three times that) is no wait at all.
		const burst = [desk.submit("b", 0.1), desk.submit("c", 0.1), desk.submit("d", 0.1)];
		expect(await Promise.all(burst)).toEqual(["done b", "done c", "done d"]);
		expect(desk.batches).toEqual([["a"], ["b", "c", "d"]]);
	});

	test("a full batch runs at once", async () => {
		const desk = batcher({ inFlight: 2, size: 3, lingerMs: FOREVER });
		await desk.submit("a", 0);
		await nextTurns();
		// Busy (less than the longest wait apart), so "b" would wait for a long time.
		const waiting = desk.submit("b", FOREVER / 2);
		await nextTurns();
		const rest = [desk.submit("c", 1), desk.submit("d", 1)];
		expect(await Promise.all([waiting, ...rest])).toEqual(["done b", "done c", "done d"]);
		expect(desk.batches).toEqual([["a"], ["b", "c", "d"]]);
	});

	test("while a batch runs, a request on a busy desk still waits: the batch's end does not cut the wait short", async () => {
		const desk = batcher({ inFlight: 2, size: 3, lingerMs: FOREVER }, true);
		// "a" holds its batch and the second slot is free, yet "b" waits instead of running alone
		// in that slot…
		const { a, b } = await aHeldThenBWaiting(desk);
		desk.releaseFirst();
		expect(await a).toBe("done a");
		await nextTurns();
		// …still after "a"'s batch has ended…
		expect(desk.batches).toEqual([["a"]]);
		// …and shares one statement with the next two (a full batch runs at once).
		const rest = [desk.submit("c", 1), desk.submit("d", 1)];
		expect(await Promise.all([b, ...rest])).toEqual(["done b", "done c", "done d"]);
		expect(desk.batches).toEqual([["a"], ["b", "c", "d"]]);
	});

	test("a batch's end takes at once what queued meanwhile when it is more than one request", async () => {
		const desk = batcher({ inFlight: 1, size: 100, lingerMs: FOREVER }, true);
		const { a, b } = await aHeldThenBWaiting(desk);
		// With "c" queued too, the next statement would not run alone: "a"'s end takes both.
		const c = desk.submit("c", 1);
		desk.releaseFirst();
		expect(await Promise.all([a, b, c])).toEqual(["done a", "done b", "done c"]);
		expect(desk.batches).toEqual([["a"], ["b", "c"]]);
	});
});
