/**
 * The live connection: one socket that reconnects forever and, after every `connected`, a
 * catch-up from the last server id seen (or the newest page) and a fresh status. Only then is the
 * chat live and the outbox flushed, so a send never overtakes messages still being caught up.
 * The banner says "Reconnecting…" (or offline) meanwhile, while there is a conversation to follow.
 */
import { ApiError, createSocket } from "../transport.ts";
import { gone } from "./alerts.ts";
import type { Chat } from "./chat.ts";
import type { Conversation } from "./conversation.ts";
import type { History, Page } from "./history.ts";
import type { StatusData, Ticket } from "./ticket.ts";

export interface ConnectionParts {
	session: { readonly id: string | null; drop(): void };
	history: Pick<History, "first">;
	conversation: Pick<Conversation, "receive" | "unread">;
	ticket: Pick<Ticket, "apply">;
	/** Sends what waits in the outbox. */
	flush(): void;
	/** Every frame but `connected`. */
	frame(type: string, data: Record<string, unknown>): void;
}

/** The service relays at most one "typing" per 5 s; sending more is wasted frames. */
const TYPING_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createConnection(
	ws: string,
	{ t, http, store, view, report }: Chat,
	p: ConnectionParts,
) {
	/** Socket connected and caught up: only then are pending sends flushed. */
	let live = false;
	/** Counts connections: a catch-up whose connection went down stops where it is. */
	let runs = 0;
	let lastTyping = 0;

	const socket = createSocket(
		() => (p.session.id ? `${ws}?session=${encodeURIComponent(p.session.id)}` : null),
		{
			frame(type, data) {
				// The status comes with the catch-up (it also says whether a rating is still due).
				if (type === "connected") sync().catch(report);
				else p.frame(type, data);
			},
			down(code) {
				live = false;
				runs++;
				banner();
				if (code === 4001) p.session.drop();
			},
		},
	);

	function banner() {
		view.setBanner(
			live || !(p.session.id || store.pending.length)
				? ""
				: navigator.onLine
					? t.reconnecting
					: t.offline,
		);
	}

	/** Brings the store up to date; false when the connection went down meanwhile. */
	async function catchUp(run: number): Promise<boolean> {
		// The cursor moves only with the pages: a live message arriving meanwhile has a higher id
		// and would skip whatever lies between.
		let cursor = store.newestId;
		if (!cursor) {
			const page = await http.call<Page>("history?limit=50");
			if (run !== runs) return false;
			p.history.first(page);
			p.conversation.unread();
			return true;
		}
		for (let more = true; more && cursor; ) {
			const page: Page = await http.call<Page>(
				`history?after=${encodeURIComponent(cursor)}&limit=100`,
			);
			if (run !== runs) return false;
			for (const m of page.messages) p.conversation.receive(m);
			cursor = page.messages.at(-1)?.id;
			more = page.hasMore;
		}
		return true;
	}

	async function sync() {
		const run = ++runs;
		live = false;
		banner();
		for (let attempt = 0; ; attempt++) {
			try {
				if (!(await catchUp(run))) return;
				const data = await http.call<StatusData>("status");
				if (run !== runs) return;
				p.ticket.apply(data);
				live = true;
				banner();
				p.flush();
				return;
			} catch (e) {
				if (run !== runs) return;
				if (gone(e)) return p.session.drop();
				if (e instanceof ApiError && e.code === "INVALID_PARAMS") {
					// The cursor is unknown to the server: start over from the newest page.
					store.reset();
					view.clear();
				}
				await sleep(Math.random() * Math.min(30_000, 1000 * 2 ** attempt));
				if (run !== runs) return;
			}
		}
	}

	return {
		socket,
		get live() {
			return live;
		},
		banner,
		typing() {
			if (live && Date.now() - lastTyping > TYPING_MS) {
				lastTyping = Date.now();
				socket.send("typing", { isTyping: true });
			}
		},
		/** The session is gone: no socket until there is a new one. */
		stop() {
			live = false;
			socket.stop();
			banner();
		},
	};
}

export type Connection = ReturnType<typeof createConnection>;
