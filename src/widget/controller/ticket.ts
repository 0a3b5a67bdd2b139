/**
 * The visitor's ticket: its status line, ending the conversation, and the rating offered once it
 * is closed. A rating given on this page keeps its thank-you until the ticket opens again.
 */
import type { WidgetTexts } from "../texts.ts";
import { ApiError } from "../transport.ts";
import type { Alerts } from "./alerts.ts";
import type { Chat } from "./chat.ts";

export interface StatusData {
	status?: string;
	telegramLinked?: boolean;
	telegramUsername?: string | null;
	canRate?: boolean;
}

export function createTicket(
	{ t, view, http, emit }: Chat,
	{ task }: Alerts,
	hasSession: () => boolean,
) {
	let status = "";
	let rated = false;

	/** Rated (`thanks`), or nothing left to rate (`none`). */
	function done(state: "thanks" | "none") {
		rated = true;
		view.rating.set(state);
	}

	function apply(data: StatusData) {
		if (data.telegramLinked || data.telegramUsername) view.setLinked(data.telegramUsername ?? null);
		const next = data.status;
		if (!next) return;
		view.setStatus(t[`status_${next}` as keyof WidgetTexts] ?? "");
		if (next === "CLOSED") {
			// A missing `canRate` means yes.
			if (data.canRate === false && !rated) done("none");
			else if (!rated) view.rating.set("ask");
		} else {
			rated = false;
			view.rating.set("none");
		}
		if (next !== status) {
			status = next;
			emit("status", { status });
		}
	}

	return {
		apply,
		done,
		end() {
			task(async () => {
				if (!hasSession()) return;
				apply(await http.call<StatusData>("close", { resolved: true }));
			});
		},
		rate(rating: number, feedback: string) {
			task(async () => {
				try {
					await http.call("rate", feedback ? { rating, feedback } : { rating });
					done("thanks");
				} catch (e) {
					if (!(e instanceof ApiError && e.code === "NOTHING_TO_RATE")) throw e;
					done("none");
				}
			});
		},
	};
}

export type Ticket = ReturnType<typeof createTicket>;
