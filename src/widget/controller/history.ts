/**
 * Pages of history: the newest page when there is nothing to catch up from, and older pages on
 * the visitor's request while the service says there are more.
 */
import type { Message } from "../store.ts";
import type { Chat } from "./chat.ts";
import { unread } from "./conversation.ts";
import { showError } from "./notices.ts";

export interface Page {
	messages: Message[];
	hasMore: boolean;
}

export function setOlder(c: Chat, more: boolean) {
	c.hasOlder = more;
	c.view.setMore(more);
}

/** The newest page: shown, and the pending sends it already holds are settled. */
export function showNewest(c: Chat, page: Page) {
	const { store, view } = c;
	view.prepend(page.messages.filter((m) => store.add(m)));
	store.loaded();
	setOlder(c, page.hasMore);
	for (const m of page.messages)
		store.settle(m.clientMessageId) && view.drop(m.clientMessageId ?? "");
}

export async function loadOlder(c: Chat) {
	const { store } = c;
	if (c.loadingOlder || !c.hasOlder || !store.oldestId || !c.session) return;
	c.loadingOlder = true;
	try {
		const page = await c.http.call<Page>(
			`history?before=${encodeURIComponent(store.oldestId)}&limit=50`,
		);
		c.view.prepend(page.messages.filter((m) => store.add(m)));
		setOlder(c, page.hasMore);
	} catch (e) {
		showError(c, e);
	} finally {
		c.loadingOlder = false;
	}
}

/**
 * What is shown is replaced by the conversation's newest page: the conversation was merged with
 * another (its messages numbered again), so its earlier messages and older pages fit in order.
 */
export function reloadNewest(c: Chat) {
	if (!c.session) return;
	c.store.forget();
	c.view.clear();
	setOlder(c, false);
	c.http.call<Page>("history?limit=50").then(
		(page) => {
			showNewest(c, page);
			unread(c);
		},
		// Not loaded: start over as after a reconnect, whose catch-up retries and says so.
		() => c.socket.restart(),
	);
}
