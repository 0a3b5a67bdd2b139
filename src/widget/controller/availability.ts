/**
 * Whether the desk is open (its business hours), from `bot-info` and every `connected`: while it
 * is closed the header says when it is back, before the visitor writes.
 */
import type { Chat } from "./chat.ts";

export interface AvailabilityData {
	open?: boolean;
	/** ISO 8601: the next opening. */
	opensAt?: string;
}

/** "09:00" today, else "Mon 09:00", in the visitor's own time zone. */
function when(at: Date, locale: string) {
	const time = at.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
	if (at.toDateString() === new Date().toDateString()) return time;
	return `${at.toLocaleDateString(locale, { weekday: "short" })} ${time}`;
}

export function applyAvailability(c: Chat, data: AvailabilityData | undefined) {
	if (typeof data?.open !== "boolean") return;
	const opensAt = data.opensAt ? new Date(data.opensAt) : null;
	c.view.setAvailability(
		data.open
			? ""
			: opensAt && !Number.isNaN(opensAt.getTime())
				? c.t.awayUntil.replace("{when}", when(opensAt, c.config.locale ?? "en"))
				: c.t.away,
	);
}
