/**
 * The page around the widget. The socket reconnects at once when the network or the tab comes
 * back, and closes on `pagehide` so the browser's back-forward cache can keep the page; another
 * tab of the site reading replies clears the unread count here too.
 */
import type { Store } from "../store.ts";
import type { Connection } from "./connection.ts";

export interface PageParts {
	store: Store;
	connection: Pick<Connection, "socket" | "banner">;
	hasSession(): boolean;
	kick(): void;
	unread(): void;
}

export function followPage({ store, connection, hasSession, kick, unread }: PageParts) {
	const { socket } = connection;
	const reconnect = () => {
		connection.banner();
		if (hasSession()) socket.restart();
		else if (store.pending.length) kick();
	};
	window.addEventListener("online", reconnect);
	window.addEventListener("offline", reconnect);
	window.addEventListener("pagehide", () => socket.stop());
	window.addEventListener("pageshow", (e) => {
		if (e.persisted && hasSession()) socket.now();
	});
	store.followOtherTabs(unread);
	document.addEventListener("visibilitychange", () => {
		if (document.visibilityState !== "visible") return;
		unread();
		if (hasSession()) socket.now();
	});
}
