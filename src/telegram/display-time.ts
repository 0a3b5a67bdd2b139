/** Times shown to operators, in DISPLAY_TIMEZONE: `2026-11-24 09:30 (Europe/Moscow)`. */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function displayTime(date: Date, timeZone: string): string {
	let formatter = formatters.get(timeZone);
	if (!formatter) {
		// Swedish formatting is ISO-like (YYYY-MM-DD HH:mm) and stable across runtimes.
		formatter = new Intl.DateTimeFormat("sv-SE", {
			timeZone,
			year: "numeric",
			month: "2-digit",
			day: "2-digit",
			hour: "2-digit",
			minute: "2-digit",
			hourCycle: "h23",
		});
		formatters.set(timeZone, formatter);
	}
	return formatter.format(date);
}
