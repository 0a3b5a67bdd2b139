/**
 * Pages of history: the newest page when there is nothing to catch up from, and older pages on
 * the visitor's request while the service says there are more.
 */
import type { Message } from "../store.ts";
import type { Chat } from "./chat.ts";
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
