/**
 * The page around the widget. The socket reconnects at once when the network or the tab comes
 * back, and closes on `pagehide` so the browser's back-forward cache can keep the page; another
 * tab of the site reading replies clears the unread count here too.
 */
import type { Chat } from "./chat.ts";
import { unread } from "./conversation.ts";
import { banner } from "./notices.ts";
import { kick } from "./outbox.ts";

export function followPage(c: Chat) {
	const { socket } = c;
	const reconnect = () => {
		banner(c);
		if (c.session) socket.restart();
		else if (c.store.pending.length) kick(c);
	};
	window.addEventListener("online", reconnect);
	window.addEventListener("offline", reconnect);
	window.addEventListener("pagehide", () => socket.stop());
	window.addEventListener("pageshow", (e) => {
		if (e.persisted && c.session) socket.now();
	});
	c.store.followOtherTabs(() => unread(c));
	document.addEventListener("visibilitychange", () => {
		if (document.visibilityState !== "visible") return;
		unread(c);
		if (c.session) socket.now();
	});
}
