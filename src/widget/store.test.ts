/// <reference types="bun" />
import { expect, test } from "bun:test";
import { load, save } from "./storage.ts";
import { createStore, type Message } from "./store.ts";

const message = (id: string, seq: number, from: Message["from"] = "support"): Message => ({
	id,
	seq,
	text: id,
	from,
	timestamp: "2026-01-01T00:00:00Z",
});

test("messages are kept once per server id; cursors are server ids", () => {
	const store = createStore();
	store.reset();
	expect(store.add(message("b", 2))).toBe(true);
	expect(store.add(message("a", 1, "user"))).toBe(true);
	expect(store.add(message("b", 2))).toBe(false);
	expect(store.messages.size).toBe(2);
	expect(store.newestId).toBe("b");
	expect(store.oldestId).toBe("a");
});

test("pending sends persist in order until settled", () => {
	const first = createStore();
	for (const p of first.pending) first.settle(p.cid);
	first.queue("one", "c1");
	first.queue("two", "c2");
	first.fail("c2", "too long");
	// A second store (a reload) sees the same outbox.
	const again = createStore();
	expect(again.pending.map((p) => [p.cid, p.error])).toEqual([
		["c1", undefined],
		["c2", "too long"],
	]);
	expect(again.settle("c1")).toBe(true);
	expect(again.settle("c1")).toBe(false);
	expect(createStore().pending.map((p) => p.cid)).toEqual(["c2"]);
	again.settle("c2");
});

test("unread counts support and system messages after the last read one", () => {
	const store = createStore();
	store.reset();
	store.add(message("u", 1, "user"));
	store.add(message("s", 2, "support"));
	store.add(message("n", 3, "system"));
	expect(store.unread).toBe(2);
	store.markRead();
	expect(store.unread).toBe(0);
	store.add(message("s2", 4));
	expect(store.unread).toBe(1);
});

test("a read mark from when seq counted the whole desk counts the first page shown as read", () => {
	createStore().reset();
	save("readSeq", "48213");
	const store = createStore();
	expect(load("readSeq")).toBeNull();
	store.add(message("s1", 1));
	store.add(message("s2", 2));
	store.loaded();
	expect(store.unread).toBe(0);
	store.add(message("s3", 3));
	expect(store.unread).toBe(1);
	// The mark is kept under its new key, for the next page view.
	expect(load("read")).toBe("2");
});
