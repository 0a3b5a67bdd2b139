/**
 * The conversation's session. Its id is kept in storage and created by `init` only when the
 * visitor acts, so a page view creates no session. An id other than the stored one means another
 * conversation; an id the service no longer knows is dropped, and replaced at once while the
 * panel is open or sends wait.
 */

import type { Identity } from "../handoff.ts";
import { KEYS, load, save } from "../storage.ts";
import { ApiError } from "../transport.ts";
import type { Chat } from "./chat.ts";
import { reloadNewest, setOlder } from "./history.ts";
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

type InitData = StatusData & { sessionId: string; verified?: boolean };

/**
 * `init`, with the signed visitor when there is one. A signature the desk refuses is said once on
 * the console and the chat goes on anonymously, as the site's visitor would want.
 */
async function init(c: Chat): Promise<InitData> {
	const identity = c.identity;
	const body = { pageUrl: location.href, ...(identity && { identity }) };
	try {
		const data = await c.http.call<InitData>("init", body);
		save(KEYS.identified, identity && data.verified ? identity.userId : null);
		return data;
	} catch (e) {
		if (!(e instanceof ApiError) || e.code !== "IDENTITY_INVALID" || !identity) throw e;
		console.warn("topicdesk: the visitor's identity was refused (check data-user-hash)");
		c.identity = null;
		return init(c);
	}
}

/** The session, created by one `init` however many ask for it meanwhile. */
export function ensureSession(c: Chat): Promise<string> {
	if (c.session) return Promise.resolve(c.session);
	c.starting ??= init(c)
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

/**
 * The site says who the visitor is. With no conversation yet, the next `init` carries it. With
 * one, `init` runs again with it unless this browser's session was already verified as that user
 * (pages of a logged-in site repeat it on every view): an anonymous conversation then becomes the
 * user's, joined with their other devices', and another user's gives way to a session of their own.
 */
export function identify(c: Chat, identity: Identity) {
	c.identity = identity;
	if (!c.session || load(KEYS.identified) === identity.userId) return;
	const before = c.session;
	c.starting ??= init(c)
		.then((data) => {
			if (data.sessionId === before) reloadNewest(c);
			else setSession(c, data.sessionId);
			applyStatus(c, data);
			return data.sessionId;
		})
		.catch((e) => {
			c.config.report(e);
			return before;
		})
		.finally(() => {
			c.starting = null;
		});
}

/** The site's logout: the service drops the session cookie and this browser forgets it all. */
export function forgetSession(c: Chat) {
	c.identity = null;
	save(KEYS.identified, null);
	c.http.call("forget", {}).catch(() => {});
	c.store.reset();
	c.view.clear();
	setOlder(c, false);
	dropSession(c);
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
