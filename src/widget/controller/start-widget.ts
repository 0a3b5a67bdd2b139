/**
 * Starts the widget: the store, the transport and the view, and the controller's parts between
 * them. The parts are plain functions of the shared `Chat`; this file builds it, opens and closes
 * the panel, and starts what a page view starts.
 */
import type { ChatControls } from "../handoff.ts";
import { setConsent } from "../storage.ts";
import { createStore } from "../store.ts";
import { createHttp } from "../transport.ts";
import { createView } from "../view/view.ts";
import { type AvailabilityData, applyAvailability } from "./availability.ts";
import type { Chat, WidgetConfig } from "./chat.ts";
import { createConnection, typing } from "./connection.ts";
import { unread } from "./conversation.ts";
import { loadOlder } from "./history.ts";
import { banner, showError } from "./notices.ts";
import { kick, retry, send } from "./outbox.ts";
import { followPage } from "./page-events.ts";
import { ensureSession, forgetSession, identify, storedSession } from "./session.ts";
import { linkTelegram } from "./telegram-link.ts";
import { endConversation, rate } from "./ticket-actions.ts";
import { uploadFiles } from "./uploads.ts";

export type { WidgetConfig } from "./chat.ts";

function open(c: Chat) {
	if (c.isOpen) return;
	c.isOpen = true;
	c.view.setOpen(true);
	unread(c);
	if (c.session) c.socket.now();
	else ensureSession(c).catch((e) => showError(c, e));
	c.config.emit("open");
}

function close(c: Chat) {
	if (!c.isOpen) return;
	c.isOpen = false;
	c.view.setOpen(false);
	c.config.emit("close");
}

const toggle = (c: Chat) => (c.isOpen ? close(c) : open(c));

export function startWidget(config: WidgetConfig): ChatControls {
	const t = config.texts;
	// The layers call back into the parts, so they are attached once `c` exists.
	const c = {
		config,
		t,
		session: storedSession(),
		identity: null,
		starting: null,
		isOpen: false,
		live: false,
		syncRun: 0,
		lastTyping: 0,
		status: "",
		rated: false,
		hasOlder: false,
		loadingOlder: false,
		flushing: false,
		sendFailures: 0,
		lastUnread: -1,
	} as Partial<Chat> as Chat;
	c.http = createHttp(config.api, () => c.session);
	c.store = createStore();
	c.view = createView(
		t,
		{ title: config.title || t.defaultTitle, root: config.root, launcher: config.launcher },
		{
			toggle: () => toggle(c),
			send: (text) => send(c, text),
			retry: (cid) => retry(c, cid),
			original: (id) => c.store.messages.get(id),
			files: (files, caption) => uploadFiles(c, files, caption),
			older: () => {
				loadOlder(c).catch(config.report);
			},
			telegram: () => linkTelegram(c),
			end: () => endConversation(c),
			rate: (rating, feedback) => rate(c, rating, feedback),
			typing: () => typing(c),
		},
	);
	c.socket = createConnection(c);
	followPage(c);

	c.http
		.call<{ name?: string; avatarUrl?: string; availability?: AvailabilityData }>("bot-info")
		.then((info) => {
			if (!config.title && info.name) c.view.setTitle(info.name);
			if (info.avatarUrl) c.view.setAvatar(info.avatarUrl);
			applyAvailability(c, info.availability);
		})
		.catch(() => {});

	// A stored session (or messages typed before a reload) reconnects in the background, so the
	// launcher can show unread replies and the outbox drains.
	if (c.session) c.socket.now();
	for (const p of c.store.pending) c.view.pending(p);
	if (!c.session && c.store.pending.length) kick(c);
	banner(c);
	if (config.identity) identify(c, config.identity);

	return {
		open: () => open(c),
		close: () => close(c),
		toggle: () => toggle(c),
		consent: setConsent,
		identify: (identity) => identify(c, identity),
		reset: () => forgetSession(c),
	};
}
