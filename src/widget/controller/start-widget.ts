/**
 * Starts the widget: the store, the transport and the view, and the parts of the conversation
 * wired between them. Each part owns its own state; this file only says who tells whom.
 */
import { createStore, type Message } from "../store.ts";
import type { WidgetTexts } from "../texts.ts";
import { ApiError, createHttp } from "../transport.ts";
import { createView } from "../view/view.ts";
import { createAlerts } from "./alerts.ts";
import type { Chat } from "./chat.ts";
import { createConnection } from "./connection.ts";
import { createConversation } from "./conversation.ts";
import { createHistory } from "./history.ts";
import { createOutbox } from "./outbox.ts";
import { followPage } from "./page-events.ts";
import { createSession } from "./session.ts";
import { linkTelegram } from "./telegram-link.ts";
import { createTicket } from "./ticket.ts";
import { createUploads } from "./uploads.ts";

export interface WidgetConfig {
	api: string;
	ws: string;
	texts: WidgetTexts;
	title?: string;
	color?: string;
	left: boolean;
	emit(event: string, data?: unknown): void;
	report(error: unknown): void;
}

export function startWidget(config: WidgetConfig) {
	const { texts: t, emit, report } = config;
	const store = createStore();
	const http = createHttp(config.api, () => session.id);
	let isOpen = false;
	const toggle = () => (isOpen ? close() : open());
	const view = createView(
		t,
		{ title: config.title || t.defaultTitle, color: config.color, left: config.left },
		{
			toggle,
			send: (text) => outbox.send(text),
			retry: (cid) => outbox.retry(cid),
			original: (id) => store.messages.get(id),
			files: (files, caption) => upload(files, caption),
			older: () => {
				history.older().catch(report);
			},
			telegram: () => linkTelegram(chat, alerts, session.ensure),
			end: () => ticket.end(),
			rate: (rating, feedback) => ticket.rate(rating, feedback),
			typing: () => connection.typing(),
		},
	);
	const chat: Chat = { t, http, store, view, emit, report };
	const alerts = createAlerts(chat, () => session.drop());
	const session = createSession(http, {
		switched() {
			store.reset();
			view.clear();
			history.setOlder(false);
		},
		connect() {
			connection.banner();
			connection.socket.now();
		},
		disconnect: () => connection.stop(),
		wanted: () => isOpen || store.pending.length > 0,
		started: (data) => ticket.apply(data),
	});
	const hasSession = () => !!session.id;
	const ticket = createTicket(chat, alerts, hasSession);
	const conversation = createConversation(chat, () => isOpen);
	const history = createHistory(chat, alerts, hasSession);
	const connection = createConnection(config.ws, chat, {
		session,
		history,
		conversation,
		ticket,
		flush: () => outbox.flush(),
		frame(type, data) {
			if (type === "message") conversation.receive(data as unknown as Message);
			else if (type === "message_edited") conversation.edited(data);
			else if (type === "rated") ticket.done("thanks");
			else if (type === "status") ticket.apply({ status: data.status as string });
			else if (type === "channel_linked") view.setLinked(String(data.telegram ?? "") || null);
			else if (type === "error") alerts.show(new ApiError(String(data.code), ""));
		},
	});
	const outbox = createOutbox(chat, alerts, {
		session,
		connection,
		receive: conversation.receive,
	});
	const upload = createUploads(chat, alerts, session);

	function open() {
		if (isOpen) return;
		isOpen = true;
		view.setOpen(true);
		conversation.unread();
		if (session.id) connection.socket.now();
		else session.ensure().catch(alerts.show);
		emit("open");
	}

	function close() {
		if (!isOpen) return;
		isOpen = false;
		view.setOpen(false);
		emit("close");
	}

	followPage({
		store,
		connection,
		hasSession,
		kick: outbox.kick,
		unread: conversation.unread,
	});

	http
		.call<{ name?: string; avatarUrl?: string }>("bot-info")
		.then((info) => {
			if (!config.title && info.name) view.setTitle(info.name);
			if (info.avatarUrl) view.setAvatar(info.avatarUrl);
		})
		.catch(() => {});

	// A stored session (or messages typed before a reload) reconnects in the background, so the
	// launcher can show unread replies and the outbox drains.
	if (session.id) connection.socket.now();
	for (const p of store.pending) view.pending(p);
	if (!session.id && store.pending.length) outbox.kick();
	connection.banner();
	view.setUnread(0);

	return { host: view.host, open, close, toggle };
}
