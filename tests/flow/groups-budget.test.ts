/**
 * Several support groups at Telegram's real limit: each group has its own budget of 20 writes a
 * minute, so two groups take twice the new tickets of one in the same minute. The minute is
 * compressed to 8 s: the double enforces 20 writes per 8 s window in each group (its flood
 * limit, 429 beyond it) and the service's budget is `groupPerMinute: 20` over `groupWindow: 8s`.
 * Pins are off (`card.pin: "never"`), so a new ticket is exactly two writes: its topic, and the
 * card with the question.
 */
import { describe, expect, test } from "bun:test";
import { waitForOutboxIdle } from "../support/settle.ts";
import type { ApiCall, TelegramDouble } from "../support/telegram-double.ts";
import { newUser, showsText, useTelegramFlow } from "../support/telegram-flow.ts";
import { SECOND_GROUP, useGroupsFlow, writesInto } from "../support/telegram-groups.ts";

const WINDOW_MS = 8_000;
const CONFIG = {
	card: { pin: "never" },
	outbox: { groupPerMinute: 20, groupWindow: `${WINDOW_MS / 1000}s` },
};
const CUSTOMERS = 20;

/** 20 Telegram customers write at once; resolves with each question's landing call, in order. */
async function rush(tg: TelegramDouble, groups: readonly number[], tag: string) {
	for (const id of groups) tg.setFloodLimit({ chatId: id, max: 20, windowMs: WINDOW_MS });
	const since = tg.calls.length;
	const texts = Array.from({ length: CUSTOMERS }, (_, i) => `${tag} question ${i}`);
	for (const text of texts) tg.customerSends(newUser("Rush"), text);
	const landed: ApiCall[] = [];
	for (const text of texts)
		landed.push(
			await tg.waitForCall((c) => c.ok && showsText(c, text), { since, timeoutMs: 30_000 }),
		);
	const writes = groups.flatMap((id) => writesInto(tg, id, since));
	const first = Math.min(...writes.map((c) => c.at));
	// Tickets whose question was in its topic within the first window of the rush.
	const inFirstWindow = landed.filter((c) => c.at < first + WINDOW_MS);
	const refused = tg.calls.slice(since).filter((c) => c.errorCode === 429);
	return { landed, inFirstWindow, writes, refused };
}

describe("one group at 20 writes a window", () => {
	const flow = useTelegramFlow(CONFIG);

	test("takes at most 10 new tickets in a window; the rest wait for the next ones", async () => {
		const { tg, service } = flow();
		const result = await rush(tg, [tg.groupId], "one");
		await waitForOutboxIdle(service, { timeoutMs: 30_000 });
		// Two writes each: a window of 20 writes holds 10 tickets at most, however they are ordered.
		expect(result.inFirstWindow.length).toBeGreaterThan(0);
		expect(result.inFirstWindow.length).toBeLessThanOrEqual(10);
		// Every question lands, each ticket in two writes. At the window's edge the double may refuse
		// a call the service's own window had room for (the two clocks differ by a call's travel
		// time): the service waits out its retry_after and loses nothing.
		expect(result.landed).toHaveLength(CUSTOMERS);
		expect(result.writes).toHaveLength(2 * CUSTOMERS);
	}, 60_000);
});

describe("two groups at 20 writes a window each", () => {
	const flow = useGroupsFlow(CONFIG);

	test("take 20 new tickets in a window, twice what one group's window holds, half each", async () => {
		const { tg, service, groups } = flow();
		const result = await rush(tg, groups, "two");
		await waitForOutboxIdle(service, { timeoutMs: 30_000 });
		expect(result.inFirstWindow).toHaveLength(20);
		const byGroup = (id: number) =>
			result.landed.filter((c) => Number(c.params.chat_id) === id).length;
		expect([byGroup(tg.groupId), byGroup(SECOND_GROUP)]).toEqual([10, 10]);
		expect(result.writes).toHaveLength(2 * CUSTOMERS);
		expect(result.refused).toEqual([]);
	}, 60_000);
});
