/**
 * The live connection: one socket that reconnects forever and, after every `connected`, a
 * catch-up from the last server id seen (or the newest page) and a fresh status. Only then is the
 * chat live and the outbox flushed, so a send never overtakes messages still being caught up.
 */
import type { Message } from "../store.ts";
import { ApiError, createSocket } from "../transport.ts";
import { type AvailabilityData, applyAvailability } from "./availability.ts";
import type { Chat } from "./chat.ts";
import { edited, receive, unread } from "./conversation.ts";
import { type Page, reloadNewest, showNewest } from "./history.ts";
import { banner, gone, showError } from "./notices.ts";
import { flush } from "./outbox.ts";
import { dropSession } from "./session.ts";
import { applyStatus, type StatusData, setRated } from "./status.ts";

/** The service relays at most one "typing" per 5 s; sending more is wasted frames. */
const TYPING_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The socket and what each frame does; close code 4001 means the service forgot the session. */
export function createConnection(c: Chat) {
	return createSocket(
		() => (c.session ? `${c.config.ws}?session=${encodeURIComponent(c.session)}` : null),
		{
			frame(type, data) {
				// The status comes with the catch-up (it also says whether a rating is still due).
				if (type === "connected") {
					applyAvailability(c, data.availability as AvailabilityData | undefined);
					sync(c).catch(c.config.report);
				} else if (type === "message") receive(c, data as unknown as Message);
				else if (type === "message_edited") edited(c, data);
				else if (type === "rated") setRated(c, "thanks");
				else if (type === "status") applyStatus(c, { status: data.status as string });
				else if (type === "channel_linked") linked(c, String(data.telegram ?? "") || null);
				else if (type === "error") showError(c, new ApiError(String(data.code), ""));
			},
			down(code) {
				c.live = false;
				c.syncRun++;
				banner(c);
				if (code === 4001) dropSession(c);
			},
		},
	);
}

/**
 * Linked to Telegram. When that account had a conversation of its own, the two became one, and a
 * merged conversation's messages are numbered again (in the order they were written): what is
 * shown is replaced by the merged conversation's newest page, so that its earlier messages and
 * older pages fit in. Messages arriving meanwhile carry the new numbers and stay.
 */
function linked(c: Chat, telegram: string | null) {
	c.view.setLinked(telegram);
	reloadNewest(c);
}

export function typing(c: Chat) {
	if (c.live && Date.now() - c.lastTyping > TYPING_MS) {
		c.lastTyping = Date.now();
		c.socket.send("typing", { isTyping: true });
	}
}

/** Brings the store up to date; false when the socket went down meanwhile. */
async function catchUp(c: Chat, run: number): Promise<boolean> {
	const { http, store } = c;
	// The cursor moves only with the pages: a live message arriving meanwhile has a higher id
	// and would skip whatever lies between.
	let cursor = store.newestId;
	if (!cursor) {
		const page = await http.call<Page>("history?limit=50");
		if (run !== c.syncRun) return false;
		showNewest(c, page);
		unread(c);
		return true;
	}
	for (let more = true; more && cursor; ) {
		const page: Page = await http.call<Page>(
			`history?after=${encodeURIComponent(cursor)}&limit=100`,
		);
		if (run !== c.syncRun) return false;
		for (const m of page.messages) receive(c, m);
		cursor = page.messages.at(-1)?.id;
		more = page.hasMore;
	}
	return true;
}

async function sync(c: Chat) {
	const run = ++c.syncRun;
	c.live = false;
	banner(c);
	for (let attempt = 0; ; attempt++) {
		try {
			if (!(await catchUp(c, run))) return;
			const data = await c.http.call<StatusData>("status");
			if (run !== c.syncRun) return;
			applyStatus(c, data);
			c.live = true;
			banner(c);
			flush(c);
			return;
		} catch (e) {
			if (run !== c.syncRun) return;
			if (gone(e)) return dropSession(c);
			if (e instanceof ApiError && e.code === "INVALID_PARAMS") {
				// The cursor is unknown to the server: start over from the newest page.
				c.store.reset();
				c.view.clear();
			}
			await sleep(Math.random() * Math.min(30_000, 1000 * 2 ** attempt));
			if (run !== c.syncRun) return;
		}
	}
}
