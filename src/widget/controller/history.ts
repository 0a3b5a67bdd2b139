/**
 * Pages of history: the newest page when there is nothing to catch up from, and older pages on
 * the visitor's request while the service says there are more.
 */
import type { Message } from "../store.ts";
import type { Alerts } from "./alerts.ts";
import type { Chat } from "./chat.ts";

export interface Page {
	messages: Message[];
	hasMore: boolean;
}

export function createHistory(
	{ http, store, view }: Chat,
	alerts: Alerts,
	hasSession: () => boolean,
) {
	let hasOlder = false;
	let loading = false;

	function setOlder(more: boolean) {
		hasOlder = more;
		view.setMore(more);
	}

	return {
		setOlder,
		/** The newest page: shown, and the pending sends it already holds are settled. */
		first(page: Page) {
			view.prepend(page.messages.filter((m) => store.add(m)));
			setOlder(page.hasMore);
			for (const m of page.messages)
				store.settle(m.clientMessageId) && view.drop(m.clientMessageId ?? "");
		},
		async older() {
			if (loading || !hasOlder || !store.oldestId || !hasSession()) return;
			loading = true;
			try {
				const page = await http.call<Page>(
					`history?before=${encodeURIComponent(store.oldestId)}&limit=50`,
				);
				view.prepend(page.messages.filter((m) => store.add(m)));
				setOlder(page.hasMore);
			} catch (e) {
				alerts.show(e);
			} finally {
				loading = false;
			}
		},
	};
}

export type History = ReturnType<typeof createHistory>;
