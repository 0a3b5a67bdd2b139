/**
 * Wires transport, store and view together: the session, the sync after every (re)connect, the
 * outbox of pending sends, unread counting, status, rating and Telegram linking.
 */
import { load, save } from "./storage.ts";
import { createStore, type Message } from "./store.ts";
import type { WidgetTexts } from "./texts.ts";
import { ApiError, createHttp, createSocket, transient } from "./transport.ts";
import { uuid } from "./util.ts";
import { createView } from "./view.ts";

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

interface StatusData {
	status?: string;
	telegramLinked?: boolean;
	telegramUsername?: string | null;
	canRate?: boolean;
}
interface Page {
	messages: Message[];
	hasMore: boolean;
}

const SESSION_KEY = "session";
const MAX_TEXT = 4000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gone = (e: unknown) =>
	e instanceof ApiError && (e.code === "SESSION_NOT_FOUND" || e.status === 401);

export function startWidget(config: WidgetConfig) {
	const { texts: t, emit } = config;
	let session = load(SESSION_KEY);
	const http = createHttp(config.api, () => session);
	const store = createStore();
	let isOpen = false;
	/** Socket connected and caught up: only then are pending sends flushed. */
	let live = false;
	let syncRun = 0;
	let status = "";
	let rated = false;
	let hasOlder = false;
	let loadingOlder = false;
	let flushing = false;
	let starting: Promise<string> | null = null;
	let lastUnread = -1;
	let lastTyping = 0;
	let kickTimer: ReturnType<typeof setTimeout> | undefined;
	let flushTimer: ReturnType<typeof setTimeout> | undefined;
	/** Transient send failures in a row: the backoff's exponent. */
	let sendFailures = 0;

	const view = createView(
		t,
		{ title: config.title || t.defaultTitle, color: config.color, left: config.left },
		{
			toggle: () => (isOpen ? close() : open()),
			send,
			retry(cid) {
				store.fail(cid, undefined);
				const p = store.pending.find((item) => item.cid === cid);
				if (p) view.pending(p);
				kick();
			},
			original: (id) => store.messages.get(id),
			files: (files, caption) => {
				files.forEach((file, i) => {
					upload(file, i === 0 ? caption : "").catch(config.report);
				});
			},
			older: () => {
				older().catch(config.report);
			},
			telegram: linkTelegram,
			end: () => {
				task(async () => {
					if (!session) return;
					applyStatus(await http.call<StatusData>("close", { resolved: true }));
				});
			},
			rate: (rating, feedback) => {
				task(async () => {
					try {
						await http.call("rate", feedback ? { rating, feedback } : { rating });
						rated = true;
						view.rating.set("thanks");
					} catch (e) {
						if (!(e instanceof ApiError && e.code === "NOTHING_TO_RATE")) throw e;
						rated = true;
						view.rating.set("none");
					}
				});
			},
			typing() {
				// The server relays at most one "typing" per 5 s; sending more is wasted frames.
				if (live && Date.now() - lastTyping > 5000) {
					lastTyping = Date.now();
					socket.send("typing", { isTyping: true });
				}
			},
		},
	);

	const socket = createSocket(
		() => (session ? `${config.ws}?session=${encodeURIComponent(session)}` : null),
		{
			frame(type, data) {
				// The status comes with the catch-up (it also says whether a rating is still due).
				if (type === "connected") sync().catch(config.report);
				else if (type === "message") receive(data as unknown as Message, true);
				else if (type === "message_edited") {
					const id = String(data.id);
					const m = store.edit(id, String(data.text ?? ""), String(data.editedAt ?? ""));
					// The message, and the quotes of replies to it, show the new text.
					if (m)
						for (const r of store.messages.values())
							if (r === m || r.replyTo === id) view.message(r);
				} else if (type === "rated") {
					rated = true;
					view.rating.set("thanks");
				} else if (type === "status") applyStatus({ status: data.status as string });
				else if (type === "channel_linked") view.setLinked(String(data.telegram ?? "") || null);
				else if (type === "error") showError(new ApiError(String(data.code), ""));
			},
			down(code) {
				live = false;
				syncRun++;
				banner();
				if (code === 4001) dropSession();
			},
		},
	);

	/** Runs an action of the visitor; its failure is shown in words, never thrown. */
	function task(action: () => Promise<void>) {
		view.alert("");
		action().catch((e) => {
			if (gone(e)) dropSession();
			showError(e);
		});
	}

	function showError(e: unknown) {
		const code = e instanceof ApiError ? e.code : "";
		const key = `err_${code}` as keyof WidgetTexts;
		view.alert(code === "NETWORK" ? t.offline : (t[key] ?? t.err_generic));
		if (!(e instanceof ApiError)) config.report(e);
	}

	function banner() {
		view.setBanner(
			live || !(session || store.pending.length)
				? ""
				: navigator.onLine
					? t.reconnecting
					: t.offline,
		);
	}

	function setSession(id: string) {
		if (session && session !== id) {
			// Another conversation: what was shown belongs to the old one.
			store.reset();
			view.clear();
			hasOlder = false;
			view.setMore(false);
		}
		session = id;
		save(SESSION_KEY, id);
		banner();
		socket.now();
	}

	function dropSession() {
		session = null;
		save(SESSION_KEY, null);
		live = false;
		socket.stop();
		banner();
		if (isOpen || store.pending.length) ensureSession().catch(() => {});
	}

	/** `init` only when the visitor acts: a page view creates no session (SPEC §4.6). */
	function ensureSession(): Promise<string> {
		if (session) return Promise.resolve(session);
		starting ??= http
			.call<StatusData & { sessionId: string }>("init", { pageUrl: location.href })
			.then((data) => {
				setSession(data.sessionId);
				applyStatus(data);
				return data.sessionId;
			})
			.finally(() => {
				starting = null;
			});
		return starting;
	}

	/**
	 * After every `connected`: catch up from the last server id seen (or load the first page),
	 * refresh the status, and only then call the chat live and flush the outbox (field notes 14).
	 */
	async function sync() {
		const run = ++syncRun;
		live = false;
		banner();
		for (let attempt = 0; ; attempt++) {
			try {
				// The cursor moves only with the pages: a live message arriving meanwhile has a
				// higher id and would skip whatever lies between.
				let cursor = store.newestId;
				if (cursor) {
					for (let more = true; more && cursor; ) {
						const page: Page = await http.call<Page>(
							`history?after=${encodeURIComponent(cursor)}&limit=100`,
						);
						if (run !== syncRun) return;
						for (const m of page.messages) receive(m, true);
						cursor = page.messages.at(-1)?.id;
						more = page.hasMore;
					}
				} else {
					const page = await http.call<Page>("history?limit=50");
					if (run !== syncRun) return;
					view.prepend(page.messages.filter((m) => store.add(m)));
					hasOlder = page.hasMore;
					view.setMore(hasOlder);
					for (const m of page.messages)
						store.settle(m.clientMessageId) && view.drop(m.clientMessageId ?? "");
					unread();
				}
				const data = await http.call<StatusData>("status");
				if (run !== syncRun) return;
				applyStatus(data);
				live = true;
				banner();
				flush();
				return;
			} catch (e) {
				if (run !== syncRun) return;
				if (gone(e)) return dropSession();
				if (e instanceof ApiError && e.code === "INVALID_PARAMS") {
					// The cursor is unknown to the server: start over from the newest page.
					store.reset();
					view.clear();
				}
				await sleep(Math.random() * Math.min(30_000, 1000 * 2 ** attempt));
				if (run !== syncRun) return;
			}
		}
	}

	function receive(m: Message, fresh: boolean) {
		if (!m || typeof m.id !== "string") return;
		if (m.clientMessageId && store.settle(m.clientMessageId)) view.drop(m.clientMessageId);
		if (!store.add(m)) return;
		view.message(m);
		if (fresh) emit("message", m);
		unread();
	}

	function unread() {
		if (isOpen && document.visibilityState === "visible") store.markRead();
		const count = store.unread;
		view.setUnread(count);
		if (count !== lastUnread) {
			lastUnread = count;
			emit("unread", { count });
		}
	}

	function applyStatus(data: StatusData) {
		if (data.telegramLinked || data.telegramUsername) view.setLinked(data.telegramUsername ?? null);
		const next = data.status;
		if (!next) return;
		view.setStatus(t[`status_${next}` as keyof WidgetTexts] ?? "");
		if (next === "CLOSED") {
			// A missing `canRate` means yes; a rating given on this page keeps its thank-you.
			if (data.canRate === false && !rated) {
				rated = true;
				view.rating.set("none");
			} else if (!rated) view.rating.set("ask");
		} else {
			rated = false;
			view.rating.set("none");
		}
		if (next !== status) {
			status = next;
			emit("status", { status });
		}
	}

	function send(raw: string): boolean {
		const text = raw.trim();
		if (!text) return false;
		if (text.length > MAX_TEXT) {
			showError(new ApiError("MESSAGE_TOO_LONG", ""));
			return false;
		}
		view.alert("");
		view.pending(store.queue(text, uuid()));
		kick();
		return true;
	}

	/** Get the outbox moving: a session, a socket, and once live, the sends. */
	function kick() {
		clearTimeout(kickTimer);
		if (live) flush();
		else if (session) socket.now();
		else
			ensureSession().catch((e) => {
				showError(e);
				// No session yet and the service unreachable: keep trying while sends wait.
				if (transient(e) && store.pending.length)
					kickTimer = setTimeout(kick, 3000 + Math.random() * 4000);
			});
	}

	/**
	 * Sends pending messages one at a time, in order; the same id on retry is deduped. A transient
	 * failure (no answer, 5xx, 429) keeps the message "Sending…" and tries again after
	 * `Retry-After` or a backoff with jitter; any other refusal marks it failed, with Retry.
	 */
	async function flush() {
		if (flushing) return;
		flushing = true;
		clearTimeout(flushTimer);
		try {
			for (;;) {
				const next = store.pending.find((p) => !p.error);
				if (!next || !live) return;
				try {
					const ack = await http.call<{ messageId: string; seq: number; timestamp: string }>(
						"message",
						{ text: next.text, clientMessageId: next.cid },
					);
					sendFailures = 0;
					receive(
						{
							id: ack.messageId,
							seq: ack.seq,
							text: next.text,
							from: "user",
							channel: "web",
							timestamp: ack.timestamp,
							clientMessageId: next.cid,
						},
						true,
					);
					if (store.settle(next.cid)) view.drop(next.cid);
				} catch (e) {
					if (gone(e)) return dropSession();
					if (transient(e)) {
						const wait =
							(e instanceof ApiError && e.retryAfter) ||
							500 + Math.random() * Math.min(30_000, 1000 * 2 ** sendFailures);
						sendFailures = Math.min(sendFailures + 1, 16);
						flushTimer = setTimeout(flush, wait);
						return;
					}
					const code = e instanceof ApiError ? e.code : "";
					store.fail(next.cid, t[`err_${code}` as keyof WidgetTexts] ?? t.err_generic);
					view.pending(next);
				}
			}
		} finally {
			flushing = false;
		}
	}

	async function older() {
		if (loadingOlder || !hasOlder || !store.oldestId || !session) return;
		loadingOlder = true;
		try {
			const page = await http.call<Page>(
				`history?before=${encodeURIComponent(store.oldestId)}&limit=50`,
			);
			view.prepend(page.messages.filter((m) => store.add(m)));
			hasOlder = page.hasMore;
			view.setMore(hasOlder);
		} catch (e) {
			showError(e);
		} finally {
			loadingOlder = false;
		}
	}

	async function upload(file: File, caption: string) {
		view.alert("");
		let bar: { set(share: number): void; done(): void } | undefined;
		try {
			await ensureSession();
			bar = view.progress(file.name);
			await http.upload(file, caption, bar.set);
		} catch (e) {
			if (gone(e)) dropSession();
			if (caption) view.restoreDraft(caption);
			showError(e);
		} finally {
			bar?.done();
		}
	}

	function linkTelegram() {
		// Opened now, inside the click, so popup blockers let it through; pointed at t.me later.
		const tab = window.open("", "_blank");
		task(async () => {
			try {
				await ensureSession();
				const data = await http.call<{ telegramUrl: string }>("link-telegram", {});
				const url = new URL(data.telegramUrl);
				if (url.protocol !== "https:" && url.protocol !== "tg:") throw new ApiError("", "");
				if (tab) {
					tab.opener = null;
					tab.location.href = url.href;
				} else view.telegramFallback(url.href);
			} catch (e) {
				tab?.close();
				throw e;
			}
		});
	}

	function open() {
		if (isOpen) return;
		isOpen = true;
		view.setOpen(true);
		unread();
		if (session) socket.now();
		else ensureSession().catch(showError);
		emit("open");
	}

	function close() {
		if (!isOpen) return;
		isOpen = false;
		view.setOpen(false);
		emit("close");
	}

	// Reconnect at once when the network or the tab comes back; leave bfcache able to keep the
	// page by closing the socket on pagehide (field notes 13, 16).
	const reconnect = () => {
		banner();
		if (session) socket.restart();
		else if (store.pending.length) kick();
	};
	window.addEventListener("online", reconnect);
	window.addEventListener("offline", reconnect);
	window.addEventListener("pagehide", () => socket.stop());
	window.addEventListener("pageshow", (e) => {
		if (e.persisted && session) socket.now();
	});
	store.followOtherTabs(unread);
	document.addEventListener("visibilitychange", () => {
		if (document.visibilityState !== "visible") return;
		unread();
		if (session) socket.now();
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
	if (session) socket.now();
	for (const p of store.pending) view.pending(p);
	if (!session && store.pending.length) kick();
	banner();
	view.setUnread(0);

	return {
		host: view.host,
		open,
		close,
		toggle: () => (isOpen ? close() : open()),
	};
}
