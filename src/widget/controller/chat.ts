/**
 * What the controller's parts share: the layers they connect (texts, transport, store, view) and
 * the little the widget remembers between events. Each field is written by the part its comment
 * names; the others only read it.
 */

import type { Identity } from "../handoff.ts";
import type { Store } from "../store.ts";
import type { WidgetTexts } from "../texts.ts";
import type { Http, Socket } from "../transport.ts";
import type { Launcher } from "../view/launcher.ts";
import type { View } from "../view/view.ts";

export interface WidgetConfig {
	api: string;
	ws: string;
	texts: WidgetTexts;
	title?: string;
	/** The widget's language (`en`, `ru`): also how times are written. */
	locale?: string;
	/** The visitor as the site signed them (`data-user-*`), sent with `init`. */
	identity?: Identity;
	/** The loader's shadow root and launcher, taken over by the view. */
	root: ShadowRoot;
	launcher: Launcher;
	emit(event: string, data?: unknown): void;
	report(error: unknown): void;
}

type Timer = ReturnType<typeof setTimeout> | undefined;

export interface Chat {
	config: WidgetConfig;
	t: WidgetTexts;
	http: Http;
	store: Store;
	view: View;
	socket: Socket;
	/** session.ts: the signed visitor `init` sends (`data-user-*`, `topicdesk.identify`). */
	identity: Identity | null;
	/** session.ts: the stored session id; null until the visitor first acts. */
	session: string | null;
	/** session.ts: the `init` under way, shared by everyone who needs a session meanwhile. */
	starting: Promise<string> | null;
	/** start-widget.ts: the panel is open. */
	isOpen: boolean;
	/** connection.ts: socket connected and caught up; only then are pending sends flushed. */
	live: boolean;
	/** connection.ts: counts connections, so a catch-up whose socket went down stops. */
	syncRun: number;
	/** connection.ts: when "typing" was last sent. */
	lastTyping: number;
	/** status.ts: the ticket's status last shown. */
	status: string;
	/** status.ts: rated (or nothing to rate) since the ticket was last closed. */
	rated: boolean;
	/** history.ts: the service has older messages than the oldest shown. */
	hasOlder: boolean;
	/** history.ts: an older page is on its way. */
	loadingOlder: boolean;
	/** outbox.ts: a flush is running. */
	flushing: boolean;
	/** outbox.ts: the next attempt to get a session for waiting sends. */
	kickTimer: Timer;
	/** outbox.ts: the next flush after a transient failure. */
	flushTimer: Timer;
	/** outbox.ts: transient send failures in a row, the backoff's exponent. */
	sendFailures: number;
	/** conversation.ts: the unread count last told to the host page. */
	lastUnread: number;
}
