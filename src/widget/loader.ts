/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The script a page loads: it paints the launcher (with the unread count kept from the last page
 * view), claims `window.topicdesk`, and loads the rest of the widget from its immutable URL only
 * when the visitor shows intent (hover, focus or click on the launcher, `topicdesk.open()`) or a
 * conversation is already stored. Calls made before the rest runs are queued and replayed, so the
 * click that caused the load also opens the panel.
 *
 * `document.currentScript` exists only while this file's top level runs, so it is read first;
 * `window.topicdesk` is claimed synchronously so a second copy of the snippet does nothing.
 */
const script = document.currentScript as HTMLScriptElement | null;

import { CHAT_EVENT, type ChatControls, type Identity, type StartChat } from "./handoff.ts";
import css from "./launcher.css" with { type: "text" };
import { type LauncherLocale, type LauncherTexts, launcherTexts } from "./launcher-texts.ts";
import { KEYS, load } from "./storage.ts";
import { endpoints } from "./util.ts";
import { createHost } from "./view/host.ts";
import { createLauncher, type Launcher } from "./view/launcher.ts";

declare const TOPICDESK_SERVER:
	| {
			locale?: string;
			texts?: { en?: Partial<LauncherTexts>; ru?: Partial<LauncherTexts> };
			version?: string;
			/** The rest of the widget's immutable URL, relative to this script's. */
			chat?: string;
	  }
	| undefined;

type Listener = (data?: unknown) => void;
type Method = keyof ChatControls;

const server = typeof TOPICDESK_SERVER === "object" && TOPICDESK_SERVER ? TOPICDESK_SERVER : {};
const global = window as unknown as { topicdesk?: Record<string, unknown> };

if (!global.topicdesk) {
	const data = script?.dataset ?? {};
	const listeners = new Map<string, Set<Listener>>();
	const queued: [Method, unknown[]][] = [];
	let chat: ChatControls | null = null;
	let launcher: Launcher | null = null;
	let loading = false;
	let wanted = false;
	let reports = 0;
	const src = script?.src || location.href;
	const { api, ws } = endpoints(src, data.apiUrl, data.wsUrl);
	const chatUrl = new URL(server.chat || "/widget.js", src).href;
	// The site's signed visitor, when its server rendered one into the snippet.
	const identity: Identity | undefined =
		data.userId && data.userHash
			? {
					userId: data.userId,
					hash: data.userHash,
					...(data.userName && { name: data.userName }),
					...(data.userEmail && { email: data.userEmail }),
				}
			: undefined;
	const locale = ([data.locale, navigator.language, server.locale]
		.map((l) => l?.slice(0, 2).toLowerCase())
		.find((l) => l && l in launcherTexts) ?? "en") as LauncherLocale;

	/** At most a few reports per page view: enough for a cause, never a flood. */
	const report = (error: unknown) => {
		if (reports++ >= 5) return;
		const e = error instanceof Error ? error : new Error(String(error));
		fetch(`${api}/api/widget/errors`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({
				errors: [
					{ message: e.message.slice(0, 500), stack: e.stack?.slice(0, 2000), url: location.href },
				],
			}),
			keepalive: true,
		}).catch(() => {});
	};

	const emit = (event: string, value?: unknown) => {
		for (const fn of listeners.get(event) ?? []) {
			try {
				fn(value);
			} catch (e) {
				// The host's listener failed: its problem, but it must not break the widget.
				setTimeout(() => {
					throw e;
				});
			}
		}
	};

	/** Loads the rest once; a failed load (offline) is tried again on the next sign of intent. */
	const fetchChat = () => {
		wanted = true;
		if (!launcher || loading || chat) return;
		loading = true;
		const tag = document.createElement("script");
		tag.src = chatUrl;
		tag.async = true;
		tag.onerror = () => {
			loading = false;
			tag.remove();
		};
		document.head.append(tag);
	};

	const call = (method: Method, ...args: unknown[]) => {
		if (chat) return (chat[method] as (...a: unknown[]) => void)(...args);
		queued.push([method, args]);
		if (method === "open" || method === "toggle") fetchChat();
	};

	window.addEventListener(CHAT_EVENT, (event) => {
		const start = (event as CustomEvent<StartChat>).detail;
		if (chat || !launcher || typeof start !== "function") return;
		try {
			chat = start({ api, ws, locale, title: data.title, identity, root, launcher, emit, report });
			for (const [method, args] of queued.splice(0))
				(chat[method] as (...a: unknown[]) => void)(...args);
		} catch (e) {
			report(e);
		}
	});

	global.topicdesk = {
		open: () => call("open"),
		close: () => call("close"),
		toggle: () => call("toggle"),
		/** `topicdesk.consent(false)`: no storage at all; the conversation lives in memory. */
		consent: (allowed?: boolean) => call("consent", allowed !== false),
		/** The site's logged-in visitor, signed by its server (`{userId, hash, name?, email?, fields?}`). */
		identify: (who: Identity) => call("identify", who),
		/** The site's logout: this browser forgets the conversation. */
		reset: () => call("reset"),
		on(event: string, fn: Listener) {
			const set = listeners.get(event) ?? new Set();
			listeners.set(event, set);
			set.add(fn);
			if (event === "ready" && launcher) fn();
			return () => {
				set.delete(fn);
			};
		},
	};
	if (data.consent === "false") call("consent", false);

	// Errors thrown by the widget's own files (and only those) are reported; CSP refusals of our
	// origin too.
	window.addEventListener("error", (e) => {
		if (e.filename && (e.filename === script?.src || e.filename === chatUrl))
			report(e.error ?? e.message);
	});
	window.addEventListener("securitypolicyviolation", (e) => {
		if (e.blockedURI.startsWith(api) || e.blockedURI.startsWith(ws.replace(/\/ws\/chat$/, "")))
			report(`CSP blocked ${e.blockedURI} by ${e.violatedDirective}`);
	});

	const { host, root } = createHost(css, data.position === "left", data.color);
	const start = () => {
		try {
			const t = { ...launcherTexts[locale], ...server.texts?.[locale] };
			// Before the rest runs, a click asks for the panel open; afterwards it toggles.
			const painted = createLauncher(t, () => (chat ? chat.toggle() : call("open")));
			for (const name of ["pointerenter", "focus"]) painted.el.addEventListener(name, fetchChat);
			root.append(painted.el);
			const stored = load(KEYS.session);
			const unread = Number(load(KEYS.unread)) || 0;
			if (stored && unread > 0) painted.setUnread(unread);
			const attach = () => {
				if (!host.isConnected && document.body) document.body.append(host);
			};
			attach();
			// Turbo, Astro and friends swap <body> and drop the host: put it back at once (the
			// swap changes <html>'s children), and check now and then for other removals.
			new MutationObserver(attach).observe(document.documentElement, { childList: true });
			setInterval(attach, 1000);
			for (const name of ["turbo:load", "astro:after-swap", "pageshow"])
				document.addEventListener(name, attach);
			launcher = painted;
			if (data.open === "true") call("open");
			// A stored conversation (or messages typed before a reload) goes on at once: unread
			// replies reach the badge and the outbox drains.
			const pending = load(KEYS.pending);
			if (wanted || stored || (pending && pending !== "[]")) fetchChat();
			emit("ready");
		} catch (e) {
			report(e);
		}
	};
	if (document.body) start();
	else document.addEventListener("DOMContentLoaded", start, { once: true });
}
