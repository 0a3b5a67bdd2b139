/**
 * The visitor's pending sends. They wait in the store (persisted, so a reload keeps them) until
 * there is a session and the chat is live, then go one at a time, in order, each with its own
 * `clientMessageId` so a retry is deduplicated. A transient failure (no answer, 5xx, 429) keeps a
 * message "Sending…" and tries again after `Retry-After` or a backoff with jitter; any other
 * refusal marks it failed, with Retry.
 */
import type { Message } from "../store.ts";
import { ApiError, transient } from "../transport.ts";
import { uuid } from "../util.ts";
import { type Alerts, gone, refusal } from "./alerts.ts";
import type { Chat } from "./chat.ts";
import type { Session } from "./session.ts";

export interface OutboxParts {
	session: Pick<Session, "id" | "ensure" | "drop">;
	connection: { readonly live: boolean; socket: { now(): void } };
	receive(m: Message): void;
}

const MAX_TEXT = 4000;

export function createOutbox({ t, http, store, view }: Chat, alerts: Alerts, p: OutboxParts) {
	let flushing = false;
	let kickTimer: ReturnType<typeof setTimeout> | undefined;
	let flushTimer: ReturnType<typeof setTimeout> | undefined;
	/** Transient send failures in a row: the backoff's exponent. */
	let failures = 0;

	/** Get the outbox moving: a session, a socket, and once live, the sends. */
	function kick() {
		clearTimeout(kickTimer);
		if (p.connection.live) flush();
		else if (p.session.id) p.connection.socket.now();
		else
			p.session.ensure().catch((e) => {
				alerts.show(e);
				// No session yet and the service unreachable: keep trying while sends wait.
				if (transient(e) && store.pending.length)
					kickTimer = setTimeout(kick, 3000 + Math.random() * 4000);
			});
	}

	async function flush() {
		if (flushing) return;
		flushing = true;
		clearTimeout(flushTimer);
		try {
			for (;;) {
				const next = store.pending.find((item) => !item.error);
				if (!next || !p.connection.live) return;
				try {
					const ack = await http.call<{ messageId: string; seq: number; timestamp: string }>(
						"message",
						{ text: next.text, clientMessageId: next.cid },
					);
					failures = 0;
					p.receive({
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
					if (gone(e)) return p.session.drop();
					if (transient(e)) {
						const wait =
							(e instanceof ApiError && e.retryAfter) ||
							500 + Math.random() * Math.min(30_000, 1000 * 2 ** failures);
						failures = Math.min(failures + 1, 16);
						flushTimer = setTimeout(flush, wait);
						return;
					}
					store.fail(next.cid, refusal(t, e));
					view.pending(next);
				}
			}
		} finally {
			flushing = false;
		}
	}

	return {
		kick,
		flush,
		/** Queues the visitor's text; false when it was refused here (empty or too long). */
		send(raw: string): boolean {
			const text = raw.trim();
			if (!text) return false;
			if (text.length > MAX_TEXT) {
				alerts.show(new ApiError("MESSAGE_TOO_LONG", ""));
				return false;
			}
			view.alert("");
			view.pending(store.queue(text, uuid()));
			kick();
			return true;
		},
		retry(cid: string) {
			store.fail(cid, undefined);
			const item = store.pending.find((pending) => pending.cid === cid);
			if (item) view.pending(item);
			kick();
		},
	};
}

export type Outbox = ReturnType<typeof createOutbox>;
