/** Times and durations shown to operators: `2026-11-24 09:30` in DISPLAY_TIMEZONE, `1h 30m`. */
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

/** `90m` → "1h 30m": short and language-neutral. */
export function shortDuration(ms: number): string {
	const minutes = Math.round(ms / 60_000);
	if (minutes < 1) return `${Math.max(1, Math.round(ms / 1000))}s`;
	const days = Math.floor(minutes / 1440);
	const hours = Math.floor((minutes % 1440) / 60);
	const rest = minutes % 60;
	return [days && `${days}d`, hours && `${hours}h`, rest && `${rest}m`].filter(Boolean).join(" ");
}
