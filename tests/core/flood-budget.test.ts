import { describe, expect, test } from "bun:test";
import { createFloodBudget } from "../../src/telegram/flood-budget.ts";

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
});
