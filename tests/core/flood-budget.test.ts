import { describe, expect, test } from "bun:test";
import { createFloodBudget } from "../../src/outbox/flood-budget.ts";

function budgetAt(clock: { t: number }) {
	return createFloodBudget({
		groupPerWindow: 20,
		groupWindowMs: 60_000,
		privatePerSecond: 1,
		globalPerSecond: 30,
		now: () => clock.t,
	});
}

describe("flood budgets", () => {
	test("the group allows 20 calls in any 60 s window, never more", () => {
		const clock = { t: 0 };
		const budget = budgetAt(clock);
		for (let i = 0; i < 20; i++) {
			expect(budget.available("group")).toBeGreaterThan(0);
			budget.record("group");
			clock.t += 1000;
		}
		expect(budget.available("group")).toBe(0);
		// The first call leaves the window 60 s after it was made (at t = 0).
		expect(budget.waitMs("group")).toBe(60_000 - clock.t);
		clock.t = 60_001;
		expect(budget.available("group")).toBe(1);
		expect(budget.groupTight()).toBe(true);
	});

	test("the wait for several calls is until that many have left the window", () => {
		const clock = { t: 0 };
		const budget = budgetAt(clock);
		for (let i = 0; i < 20; i++) {
			budget.record("group");
			clock.t += 1000;
		}
		// At t = 20 s: the call of t = 0 leaves at 60 s, the third (t = 2 s) at 62 s.
		expect(budget.waitMs("group", 3)).toBe(62_000 - clock.t);
		clock.t = 62_001;
		expect(budget.available("group")).toBe(3);
		expect(budget.waitMs("group", 3)).toBe(0);
	});

	test("a 429 pauses only its chat", () => {
		const clock = { t: 0 };
		const budget = budgetAt(clock);
		budget.pause("group", 5000);
		expect(budget.available("group")).toBe(0);
		expect(budget.pausedFor("group")).toBe(5000);
		expect(budget.available("dm:42")).toBe(1);
		clock.t = 5000;
		expect(budget.pausedFor("group")).toBe(0);
		expect(budget.available("group")).toBe(20);
	});

	test("a private chat gets one call a second", () => {
		const clock = { t: 0 };
		const budget = budgetAt(clock);
		budget.record("dm:7");
		expect(budget.available("dm:7")).toBe(0);
		expect(budget.waitMs("dm:7")).toBe(1000);
		clock.t = 1000;
		expect(budget.available("dm:7")).toBe(1);
	});

	test("a call Telegram never took in (5xx, no connection) gives its place back; a 429 keeps it", async () => {
		const clock = { t: 0 };
		const budget = budgetAt(clock);
		const first = budget.record("group");
		clock.t = 10;
		budget.record("group");
		budget.refund("group", first);
		expect(budget.available("group")).toBe(19);
		// The refunded call is gone from the window: 60 s after the second call, all 20 are back.
		clock.t = 60_005;
		expect(budget.available("group")).toBe(19);
		clock.t = 60_011;
		expect(budget.available("group")).toBe(20);
		// A refund after the call already left the window changes nothing.
		const old = budget.record("group");
		clock.t += 60_001;
		budget.refund("group", old);
		expect(budget.available("group")).toBe(20);
		// Private chats get their token back.
		budget.refund("dm:7", budget.record("dm:7"));
		expect(budget.available("dm:7")).toBe(1);

		const { TelegramError } = await import("gramio");
		const { neverReachedLimiter } = await import("../../src/telegram/bot-api.ts");
		const answer = (code: number) =>
			new TelegramError({ ok: false, error_code: code, description: "x" }, "sendMessage", {
				chat_id: 1,
				text: "x",
			});
		expect(neverReachedLimiter(answer(500))).toBe(true);
		expect(neverReachedLimiter(answer(502))).toBe(true);
		expect(neverReachedLimiter(answer(429))).toBe(false);
		expect(neverReachedLimiter(answer(400))).toBe(false);
		expect(
			neverReachedLimiter(Object.assign(new Error("refused"), { code: "ConnectionRefused" })),
		).toBe(true);
		expect(neverReachedLimiter(new DOMException("timed out", "TimeoutError"))).toBe(false);
	});
});
