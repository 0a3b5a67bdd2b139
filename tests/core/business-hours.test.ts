import { describe, expect, test } from "bun:test";
import { addBusinessTime, type BusinessHours } from "../../src/core/business-hours.ts";

const berlin: BusinessHours = {
	timeZone: "Europe/Berlin",
	week: {
		mon: ["09:00", "18:00"],
		tue: ["09:00", "18:00"],
		wed: ["09:00", "18:00"],
		thu: ["09:00", "18:00"],
		fri: ["09:00", "18:00"],
	},
};
const at = (iso: string) => new Date(iso);
const minutes = (n: number) => n * 60_000;

describe("the SLA clock runs only in business hours", () => {
	test("without business hours, time is simply added", () => {
		expect(addBusinessTime(at("2026-11-24T12:00:00Z"), minutes(10)).toISOString()).toBe(
			"2026-11-24T12:10:00.000Z",
		);
	});

	test("inside opening hours the clock runs normally", () => {
		// Tuesday 10:00 in Berlin (UTC+1 in November).
		expect(addBusinessTime(at("2026-11-24T09:00:00Z"), minutes(30), berlin).toISOString()).toBe(
			"2026-11-24T09:30:00.000Z",
		);
	});

	test("before opening, the clock starts at opening time", () => {
		expect(addBusinessTime(at("2026-11-24T06:00:00Z"), minutes(10), berlin).toISOString()).toBe(
			"2026-11-24T08:10:00.000Z",
		);
	});

	test("Friday evening carries over the weekend to Monday morning", () => {
		// Friday 17:50 Berlin: 10 minutes left that day, 20 on Monday from 09:00.
		expect(addBusinessTime(at("2026-11-27T16:50:00Z"), minutes(30), berlin).toISOString()).toBe(
			"2026-11-30T08:20:00.000Z",
		);
	});

	test("daylight saving time is respected (summer: UTC+2)", () => {
		expect(addBusinessTime(at("2026-07-06T05:00:00Z"), minutes(10), berlin).toISOString()).toBe(
			"2026-07-06T07:10:00.000Z",
		);
	});

	test("a schedule with no open day falls back to plain time", () => {
		const closed: BusinessHours = { timeZone: "UTC", week: {} };
		expect(addBusinessTime(at("2026-11-24T12:00:00Z"), minutes(5), closed).toISOString()).toBe(
			"2026-11-24T12:05:00.000Z",
		);
	});
});
