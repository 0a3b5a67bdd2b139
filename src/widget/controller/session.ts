/**
 * The conversation's session. Its id is kept in storage and created by `init` only when the
 * visitor acts, so a page view creates no session. An id other than the stored one means another
 * conversation; an id the service no longer knows is dropped, and replaced at once while the
 * panel is open or sends wait.
 */
import { KEYS, load, save } from "../storage.ts";
import type { Chat } from "./chat.ts";
import { setOlder } from "./history.ts";
import { banner, gone, showError } from "./notices.ts";
import { applyStatus, type StatusData } from "./status.ts";

const SESSION_KEY = KEYS.session;

/** The id kept from an earlier page view, if any. */
export const storedSession = () => load(SESSION_KEY);

function setSession(c: Chat, id: string) {
	if (c.session && c.session !== id) {
		// Another conversation: what was shown belongs to the old one.
		c.store.reset();
		c.view.clear();
		setOlder(c, false);
	}
	c.session = id;
	save(SESSION_KEY, id);
	banner(c);
	c.socket.now();
}

/** The session, created by one `init` however many ask for it meanwhile. */
export function ensureSession(c: Chat): Promise<string> {
	if (c.session) return Promise.resolve(c.session);
	c.starting ??= c.http
		.call<StatusData & { sessionId: string }>("init", { pageUrl: location.href })
		.then((data) => {
			setSession(c, data.sessionId);
			applyStatus(c, data);
			return data.sessionId;
		})
		.finally(() => {
			c.starting = null;
		});
	return c.starting;
}

/** The service forgot the session: disconnect, and start a new one if the visitor is waiting. */
export function dropSession(c: Chat) {
	c.session = null;
	save(SESSION_KEY, null);
	// The badge the loader painted from storage belonged to that conversation.
	save(KEYS.unread, null);
	c.view.setUnread(0);
	c.live = false;
	c.socket.stop();
	banner(c);
	if (c.isOpen || c.store.pending.length) ensureSession(c).catch(() => {});
}

/** Runs an action of the visitor; its failure is shown in words, never thrown. */
export function task(c: Chat, action: () => Promise<void>) {
	c.view.alert("");
	action().catch((e) => {
		if (gone(e)) dropSession(c);
		showError(c, e);
	});
}
