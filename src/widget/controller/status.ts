/**
 * The ticket's status as the visitor sees it: the status line, the Telegram link it may report,
 * and the rating offered once the ticket is closed. A rating given on this page keeps its
 * thank-you until the ticket opens again.
 */
import type { WidgetTexts } from "../texts.ts";
import type { Chat } from "./chat.ts";

export interface StatusData {
	status?: string;
	telegramLinked?: boolean;
	telegramUsername?: string | null;
	canRate?: boolean;
}

/** Rated (`thanks`), or nothing left to rate (`none`). */
export function setRated(c: Chat, state: "thanks" | "none") {
	c.rated = true;
	c.view.rating.set(state);
}

export function applyStatus(c: Chat, data: StatusData) {
	const { t, view } = c;
	if (data.telegramLinked || data.telegramUsername) view.setLinked(data.telegramUsername ?? null);
	const next = data.status;
	if (!next) return;
	view.setStatus(t[`status_${next}` as keyof WidgetTexts] ?? "");
	if (next === "CLOSED") {
		// A missing `canRate` means yes.
		if (data.canRate === false && !c.rated) setRated(c, "none");
		else if (!c.rated) view.rating.set("ask");
	} else {
		c.rated = false;
		view.rating.set("none");
	}
	if (next !== c.status) {
		c.status = next;
		c.config.emit("status", { status: next });
	}
}
