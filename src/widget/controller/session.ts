/**
 * The conversation's session id. It is kept in storage and created by `init` only when the
 * visitor acts, so a page view creates no session. An id different from the stored one means
 * another conversation; an id the service no longer knows is dropped, and replaced at once while
 * the panel is open or sends wait.
 */
import { load, save } from "../storage.ts";
import type { Http } from "../transport.ts";
import type { StatusData } from "./ticket.ts";

const SESSION_KEY = "session";

export interface SessionHooks {
	/** Another conversation's id replaced the stored one: what was shown belongs to the old one. */
	switched(): void;
	/** There is a session now: connect. */
	connect(): void;
	/** The session is gone: disconnect. */
	disconnect(): void;
	/** Whether a new session is needed at once. */
	wanted(): boolean;
	/** The ticket's state as `init` answered it. */
	started(data: StatusData): void;
}

export function createSession(http: Http, hooks: SessionHooks) {
	let id = load(SESSION_KEY);
	let starting: Promise<string> | null = null;

	function set(next: string) {
		if (id && id !== next) hooks.switched();
		id = next;
		save(SESSION_KEY, next);
		hooks.connect();
	}

	function ensure(): Promise<string> {
		if (id) return Promise.resolve(id);
		starting ??= http
			.call<StatusData & { sessionId: string }>("init", { pageUrl: location.href })
			.then((data) => {
				set(data.sessionId);
				hooks.started(data);
				return data.sessionId;
			})
			.finally(() => {
				starting = null;
			});
		return starting;
	}

	return {
		get id() {
			return id;
		},
		ensure,
		drop() {
			id = null;
			save(SESSION_KEY, null);
			hooks.disconnect();
			if (hooks.wanted()) ensure().catch(() => {});
		},
	};
}

export type Session = ReturnType<typeof createSession>;
