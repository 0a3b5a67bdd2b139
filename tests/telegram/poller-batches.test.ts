import { describe, expect, test } from "bun:test";
import type { TelegramUpdate } from "gramio";
import { conversations } from "../../src/telegram/poller.ts";

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
