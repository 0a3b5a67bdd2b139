/**
 * Adding "business time": the SLA clock runs only inside the configured opening hours, in their
 * time zone. Without business hours, time is simply added.
 */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/**
 * Opening hours: a day left out is closed; a pair like ["09:00", "18:00"] is the open interval,
 * on the wall clock of `timeZone`.
 */
export type BusinessHours = {
	timeZone: string;
	week: Partial<Record<Weekday, [open: string, close: string]>>;
};

const WEEKDAYS: Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DAY_MS = 86_400_000;

/** The wall-clock date parts of `instant` in `timeZone`. */
function wallClock(instant: number, timeZone: string) {
	const parts = new Intl.DateTimeFormat("en-US", {
		timeZone,
		year: "numeric",
		month: "numeric",
		day: "numeric",
		hour: "numeric",
		minute: "numeric",
		second: "numeric",
		hourCycle: "h23",
	}).formatToParts(instant);
	const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
	return {
		year: get("year"),
		month: get("month"),
		day: get("day"),
		hour: get("hour"),
		minute: get("minute"),
		second: get("second"),
	};
}

/** The instant at which the wall clock in `timeZone` shows the given local date and time. */
function instantOf(
	year: number,
	month: number,
	day: number,
	minutes: number,
	timeZone: string,
): number {
	const guess = Date.UTC(year, month - 1, day, 0, minutes);
	// The zone's offset at the guess; applied twice to settle across a DST change.
	let instant = guess;
	for (let i = 0; i < 2; i++) {
		const shown = wallClock(instant, timeZone);
		const shownAsUtc = Date.UTC(
			shown.year,
			shown.month - 1,
			shown.day,
			shown.hour,
			shown.minute,
			shown.second,
		);
		instant += guess - shownAsUtc;
	}
	return instant;
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * The instant `ms` of open time after `start`.
 * @example addBusinessTime(fridayEvening, 30 * 60_000, hours) // Monday 09:30 when open 09–18 Mon–Fri
 */
export function addBusinessTime(start: Date, ms: number, hours?: BusinessHours): Date {
	if (!hours) return new Date(start.getTime() + ms);
	let remaining = ms;
	let cursor = start.getTime();
	const first = wallClock(cursor, hours.timeZone);
	const firstDay = Date.UTC(first.year, first.month - 1, first.day);
	// A year of closed days means the schedule has no open hours at all: run the clock plainly.
	for (let day = 0; day < 366; day++) {
		const date = new Date(firstDay + day * DAY_MS);
		const y = date.getUTCFullYear();
		const m = date.getUTCMonth() + 1;
		const d = date.getUTCDate();
		const open = hours.week[WEEKDAYS[date.getUTCDay()] as Weekday];
		if (!open) continue;
		const from = Math.max(cursor, instantOf(y, m, d, minutesOf(open[0]), hours.timeZone));
		const until = instantOf(y, m, d, minutesOf(open[1]), hours.timeZone);
		if (until <= from) continue;
		if (until - from >= remaining) return new Date(from + remaining);
		remaining -= until - from;
		cursor = until;
	}
	return new Date(start.getTime() + ms);
}

/** Whether the desk is open at an instant, and when it opens next when it is not. */
export interface Availability {
	open: boolean;
	/** The next opening (absent while open, and for a schedule without open hours). */
	opensAt?: Date;
}

/**
 * The desk's availability at `now`: always open without business hours.
 * @example availability(saturdayNoon, hours) // { open: false, opensAt: Monday 09:00 in hours.timeZone }
 */
export function availability(now: Date, hours?: BusinessHours): Availability {
	if (!hours) return { open: true };
	const at = now.getTime();
	const today = wallClock(at, hours.timeZone);
	const firstDay = Date.UTC(today.year, today.month - 1, today.day);
	// From yesterday: an interval that began yesterday may still be open in this zone's today.
	for (let day = -1; day < 8; day++) {
		const date = new Date(firstDay + day * DAY_MS);
		const open = hours.week[WEEKDAYS[date.getUTCDay()] as Weekday];
		if (!open) continue;
		const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
		const from = instantOf(y, m, d, minutesOf(open[0]), hours.timeZone);
		const until = instantOf(y, m, d, minutesOf(open[1]), hours.timeZone);
		if (until <= from || until <= at) continue;
		return from <= at ? { open: true } : { open: false, opensAt: new Date(from) };
	}
	return { open: false };
}

/**
 * The open time between two instants: how long a customer waited inside business hours (all of
 * it without business hours).
 * @example businessTimeBetween(fridayAt17, mondayAt10, hours) // 2 h when open 09–18 Mon–Fri
 */
export function businessTimeBetween(from: Date, to: Date, hours?: BusinessHours): number {
	const [start, end] = [from.getTime(), to.getTime()];
	if (!hours || end <= start) return Math.max(0, end - start);
	const first = wallClock(start, hours.timeZone);
	const firstDay = Date.UTC(first.year, first.month - 1, first.day);
	let open = 0;
	// From the day before: an interval that began then may reach into this zone's first day.
	for (let day = -1; day < 367; day++) {
		const date = new Date(firstDay + day * DAY_MS);
		const hoursOf = hours.week[WEEKDAYS[date.getUTCDay()] as Weekday];
		if (!hoursOf) continue;
		const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
		const opens = instantOf(y, m, d, minutesOf(hoursOf[0]), hours.timeZone);
		if (opens >= end) break;
		const closes = instantOf(y, m, d, minutesOf(hoursOf[1]), hours.timeZone);
		open += Math.max(0, Math.min(closes, end) - Math.max(opens, start));
	}
	return open;
}

/** The instant the day of `now` began (midnight) on the wall clock of `timeZone`. */
export function startOfDay(now: Date, timeZone: string): Date {
	const today = wallClock(now.getTime(), timeZone);
	return new Date(instantOf(today.year, today.month, today.day, 0, timeZone));
}
