/** What the visitor does to the ticket beside writing: end the conversation, rate it once closed. */
import { ApiError } from "../transport.ts";
import type { Chat } from "./chat.ts";
import { task } from "./session.ts";
import { applyStatus, type StatusData, setRated } from "./status.ts";

export function endConversation(c: Chat) {
	task(c, async () => {
		if (!c.session) return;
		applyStatus(c, await c.http.call<StatusData>("close", { resolved: true }));
	});
}

export function rate(c: Chat, rating: number, feedback: string) {
	task(c, async () => {
		try {
			await c.http.call("rate", feedback ? { rating, feedback } : { rating });
			setRated(c, "thanks");
		} catch (e) {
			if (!(e instanceof ApiError && e.code === "NOTHING_TO_RATE")) throw e;
			setRated(c, "none");
		}
	});
}
