import { describe, expect, test } from "bun:test";
import type { TelegramUpdate } from "gramio";
import { conversations, inLanes } from "../../src/telegram/poller.ts";

const message = (update_id: number, chatId: number, thread?: number) =>
	({
		update_id,
		message: {
			message_id: update_id,
			date: 0,
			chat: { id: chatId, type: chatId > 0 ? "private" : "supergroup" },
			message_thread_id: thread,
		},
	}) as unknown as TelegramUpdate;

describe("a getUpdates batch is split into conversations", () => {
	test("each chat or topic keeps its own order; different ones are separate", () => {
		const batch = [
			message(1, 10),
			message(2, -100, 5),
			message(3, 10),
			message(4, -100, 6),
			message(5, -100, 5),
		];
		const groups = conversations(batch).map((group) => group.map((u) => u.update_id));
		expect(groups).toEqual([[1, 3], [2, 5], [4]]);
	});

	test("a button press belongs to the conversation of the message it sits under", () => {
		const press = {
			update_id: 6,
			callback_query: {
				id: "q",
				from: { id: 10 },
				message: {
					message_id: 9,
					date: 0,
					chat: { id: -100, type: "supergroup" },
					message_thread_id: 5,
				},
			},
		} as unknown as TelegramUpdate;
		const groups = conversations([message(1, -100, 5), press, message(7, 10)]).map((g) =>
			g.map((u) => u.update_id),
		);
		expect(groups).toEqual([[1, 6], [7]]);
	});
});

describe("conversations are applied a few at a time", () => {
	test("never more than the lanes at once, every one applied, started in batch order", async () => {
		let running = 0;
		let most = 0;
		const started: number[] = [];
		const finished: number[] = [];
		await inLanes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, async (n) => {
			started.push(n);
			running++;
			most = Math.max(most, running);
			// Uneven durations, so lanes free up out of order.
			await Bun.sleep((n % 3) * 3);
			running--;
			finished.push(n);
		});
		expect(most).toBe(4);
		expect(started).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
		expect(finished.toSorted((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	});
});
