/**
 * The visitor's pending sends. They wait in the store (persisted, so a reload keeps them) until
 * there is a session and the chat is live, then go one at a time, in order, each with its own
 * `clientMessageId` so a retry is deduplicated. A transient failure (no answer, 5xx, 429) keeps a
 * message "Sending…" and tries again after `Retry-After` or a backoff with jitter; any other
 * refusal marks it failed, with Retry.
 */
import { ApiError, transient } from "../transport.ts";
import { uuid } from "../util.ts";
import type { Chat } from "./chat.ts";
import { receive } from "./conversation.ts";
import { gone, refusal, showError } from "./notices.ts";
import { dropSession, ensureSession } from "./session.ts";

const MAX_TEXT = 4000;

/** Queues the visitor's text; false when it was refused here (too long): the box keeps it. */
export function send(c: Chat, raw: string): boolean {
	const text = raw.trim();
	if (!text) return false;
	if (text.length > MAX_TEXT) {
		showError(c, new ApiError("MESSAGE_TOO_LONG", ""));
		return false;
	}
	c.view.alert("");
	c.view.pending(c.store.queue(text, uuid()));
	kick(c);
	return true;
}

export function retry(c: Chat, cid: string) {
	const { store } = c;
	store.fail(cid, undefined);
	const item = store.pending.find((p) => p.cid === cid);
	if (item) c.view.pending(item);
	kick(c);
}

/** Get the outbox moving: a session, a socket, and once live, the sends. */
export function kick(c: Chat) {
	clearTimeout(c.kickTimer);
	if (c.live) flush(c);
	else if (c.session) c.socket.now();
	else
		ensureSession(c).catch((e) => {
			showError(c, e);
			// No session yet and the service unreachable: keep trying while sends wait.
			if (transient(e) && c.store.pending.length)
				c.kickTimer = setTimeout(() => kick(c), 3000 + Math.random() * 4000);
		});
}

export async function flush(c: Chat) {
	const { store, view } = c;
	if (c.flushing) return;
	c.flushing = true;
	clearTimeout(c.flushTimer);
	try {
		for (;;) {
			const next = store.pending.find((p) => !p.error);
			if (!next || !c.live) return;
			try {
				const ack = await c.http.call<{ messageId: string; seq: number; timestamp: string }>(
					"message",
					{ text: next.text, clientMessageId: next.cid },
				);
				c.sendFailures = 0;
				receive(c, {
					id: ack.messageId,
					seq: ack.seq,
					text: next.text,
					from: "user",
					channel: "web",
					timestamp: ack.timestamp,
					clientMessageId: next.cid,
				});
				if (store.settle(next.cid)) view.drop(next.cid);
			} catch (e) {
				if (gone(e)) return dropSession(c);
				if (transient(e)) {
					const wait =
						(e instanceof ApiError && e.retryAfter) ||
						500 + Math.random() * Math.min(30_000, 1000 * 2 ** c.sendFailures);
					c.sendFailures = Math.min(c.sendFailures + 1, 16);
					c.flushTimer = setTimeout(() => flush(c), wait);
					return;
				}
				store.fail(next.cid, refusal(c.t, e));
				view.pending(next);
			}
		}
	} finally {
		c.flushing = false;
	}
}
