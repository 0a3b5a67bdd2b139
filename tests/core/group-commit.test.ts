/**
 * The group commit (group-commit.ts): a request on an idle queue runs at once, alone; requests
 * that arrive while a batch runs are gathered into the next one; one key's requests never share a
 * batch and keep their order; a failing batch is split so only the bad request fails; a request a
 * batch leaves unanswered runs alone without holding up the next batch.
 */
import { describe, expect, test } from "bun:test";
import { GroupCommit } from "../../src/core/group-commit.ts";

interface Request {
	key: string;
	name: string;
}

/** A turn of the event loop after the ones already queued (what `setImmediate` waits for). */
const nextTurns = async (turns = 2) => {
	for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface DeskOptions {
	inFlight?: number;
	size?: number;
	/** The first batch runs until `releaseFirst()` (a transaction still committing). */
	holdFirst?: boolean;
	/** Names a batch of several leaves unanswered (run again alone). */
	unanswered?: string[];
	/** Names that make any batch holding them fail. */
	failing?: string[];
}

function desk(options: DeskOptions = {}) {
	let releaseFirst = () => {};
	const firstHeld = new Promise<void>((resolve) => {
		releaseFirst = resolve;
	});
	const batches: string[][] = [];
	const group = new GroupCommit<Request, string>({
		inFlight: options.inFlight ?? 2,
		size: options.size ?? 100,
		keyOf: (request) => request.key,
		run: async (batch) => {
			batches.push(batch.map((request) => request.name));
			if (options.holdFirst && batches.length === 1) await firstHeld;
			if (batch.some((request) => options.failing?.includes(request.name)))
				throw new Error("refused");
			return batch.map((request) =>
				batch.length > 1 && options.unanswered?.includes(request.name)
					? undefined
					: `done ${request.name}`,
			);
		},
	});
	return {
		batches,
		releaseFirst,
		submit: (name: string, key = name) => group.submit({ key, name }),
	};
}

describe("group commit", () => {
	test("a request alone runs at once, in a batch of its own", async () => {
		const d = desk();
		expect(await d.submit("a")).toBe("done a");
		expect(await d.submit("b")).toBe("done b");
		expect(d.batches).toEqual([["a"], ["b"]]);
	});

	test("requests received in one turn of the event loop share a batch", async () => {
		const d = desk();
		expect(await Promise.all([d.submit("a"), d.submit("b"), d.submit("c")])).toEqual([
			"done a",
			"done b",
			"done c",
		]);
		expect(d.batches).toEqual([["a", "b", "c"]]);
	});

	test("requests that arrive while every slot is busy go together in the next batch", async () => {
		const d = desk({ inFlight: 1, holdFirst: true });
		const a = d.submit("a");
		await nextTurns();
		const later = [d.submit("b"), d.submit("c")];
		await nextTurns();
		const last = d.submit("d");
		await nextTurns();
		expect(d.batches).toEqual([["a"]]);
		d.releaseFirst();
		expect(await Promise.all([a, ...later, last])).toEqual([
			"done a",
			"done b",
			"done c",
			"done d",
		]);
		expect(d.batches).toEqual([["a"], ["b", "c", "d"]]);
	});

	test("a batch holds at most `size` requests; the rest go in the next", async () => {
		const d = desk({ inFlight: 1, size: 2 });
		await Promise.all(["a", "b", "c"].map((name) => d.submit(name)));
		expect(d.batches).toEqual([["a", "b"], ["c"]]);
	});

	test("one key's requests never share a batch and keep their order", async () => {
		const d = desk();
		const sent = [d.submit("m0", "one"), d.submit("x", "other"), d.submit("m1", "one")];
		sent.push(d.submit("m2", "one"));
		expect(await Promise.all(sent)).toEqual(["done m0", "done x", "done m1", "done m2"]);
		expect(d.batches).toEqual([["m0", "x"], ["m1"], ["m2"]]);
	});

	test("a failing batch is split: only the bad request fails", async () => {
		const d = desk({ failing: ["bad"] });
		const results = await Promise.allSettled([d.submit("a"), d.submit("bad"), d.submit("b")]);
		expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
		expect(d.batches).toEqual([["a", "bad", "b"], ["a"], ["bad"], ["b"]]);
	});

	test("a request a batch leaves unanswered runs alone, its key kept until it ends", async () => {
		const d = desk({ unanswered: ["held"] });
		const first = [d.submit("a"), d.submit("held", "busy")];
		const next = d.submit("held again", "busy");
		expect(await Promise.all([...first, next])).toEqual(["done a", "done held", "done held again"]);
		expect(d.batches).toEqual([["a", "held"], ["held"], ["held again"]]);
	});
});
