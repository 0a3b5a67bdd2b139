/**
 * The messages as they arrive. Each is shown once however it came (the answer to its POST, the
 * socket, the catch-up) and replaces its pending copy; an edit shows in the message and in the
 * quotes of replies to it; the unread count follows, for the launcher and the host page (and is
 * kept for the next page view's launcher).
 */
import { KEYS, save } from "../storage.ts";
import type { Message } from "../store.ts";
import type { Chat } from "./chat.ts";

export function unread(c: Chat) {
	const { store } = c;
	if (c.isOpen && document.visibilityState === "visible") store.markRead();
	const count = store.unread;
	c.view.setUnread(count);
	if (count !== c.lastUnread) {
		c.lastUnread = count;
		// For the loader of the next page view, which paints the badge before this code loads.
		if (c.session) save(KEYS.unread, count ? String(count) : null);
		c.config.emit("unread", { count });
	}
}

export function receive(c: Chat, m: Message) {
	const { store, view } = c;
	if (!m || typeof m.id !== "string") return;
	if (m.clientMessageId && store.settle(m.clientMessageId)) view.drop(m.clientMessageId);
	if (!store.add(m)) return;
	view.message(m);
	c.config.emit("message", m);
	unread(c);
}

export function edited({ store, view }: Chat, data: Record<string, unknown>) {
	const id = String(data.id);
	const m = store.edit(id, String(data.text ?? ""), String(data.editedAt ?? ""));
	if (m) for (const r of store.messages.values()) if (r === m || r.replyTo === id) view.message(r);
}
