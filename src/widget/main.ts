/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Entry point. `document.currentScript` exists only while this file's top level runs, so it is
 * read first; `window.topicdesk` is claimed synchronously so a second copy of the snippet does
 * nothing.
 */
const script = document.currentScript as HTMLScriptElement | null;

import { startWidget } from "./controller/start-widget.ts";
import { type WidgetLocale, type WidgetTexts, widgetTexts } from "./texts.ts";
import { endpoints } from "./util.ts";

declare const TOPICDESK_SERVER:
	| {
			locale?: string;
			texts?: { en?: Partial<WidgetTexts>; ru?: Partial<WidgetTexts> };
			version?: string;
	  }
	| undefined;

type Listener = (data?: unknown) => void;
interface TopicdeskApi {
	open(): void;
	close(): void;
	toggle(): void;
	on(event: string, fn: Listener): () => void;
}

const server = typeof TOPICDESK_SERVER === "object" && TOPICDESK_SERVER ? TOPICDESK_SERVER : {};
const global = window as unknown as { topicdesk?: TopicdeskApi };

if (!global.topicdesk) {
	const listeners = new Map<string, Set<Listener>>();
	const queued: (() => void)[] = [];
	let widget: ReturnType<typeof startWidget> | null = null;
	let reports = 0;
	const src = script?.src || location.href;
	const { api, ws } = endpoints(src, script?.dataset.apiUrl, script?.dataset.wsUrl);

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

	const emit = (event: string, data?: unknown) => {
		for (const fn of listeners.get(event) ?? []) {
			try {
				fn(data);
			} catch (e) {
				// The host's listener failed: its problem, but it must not break the widget.
				setTimeout(() => {
					throw e;
				});
			}
		}
	};
	const later = (action: (w: NonNullable<typeof widget>) => void) => () => {
		if (widget) action(widget);
		else queued.push(() => widget && action(widget));
	};

	global.topicdesk = {
		open: later((w) => w.open()),
		close: later((w) => w.close()),
		toggle: later((w) => w.toggle()),
		on(event, fn) {
			const set = listeners.get(event) ?? new Set();
			listeners.set(event, set);
			set.add(fn);
			if (event === "ready" && widget) fn();
			return () => {
				set.delete(fn);
			};
		},
	};

	// Errors thrown by this file (and only this file) are reported; CSP refusals of our origin too.
	window.addEventListener("error", (e) => {
		if (e.filename && e.filename === script?.src) report(e.error ?? e.message);
	});
	window.addEventListener("securitypolicyviolation", (e) => {
		if (e.blockedURI.startsWith(api) || e.blockedURI.startsWith(ws.replace(/\/ws\/chat$/, "")))
			report(`CSP blocked ${e.blockedURI} by ${e.violatedDirective}`);
	});

	const start = () => {
		try {
			const data = script?.dataset ?? {};
			const wanted = [data.locale, navigator.language, server.locale];
			const locale = (wanted
				.map((l) => l?.slice(0, 2).toLowerCase())
				.find((l) => l && l in widgetTexts) ?? "en") as WidgetLocale;
			const texts = { ...widgetTexts[locale], ...server.texts?.[locale] };
			const w = startWidget({
				api,
				ws,
				texts,
				title: data.title,
				color: data.color,
				left: data.position === "left",
				emit,
				report,
			});
			const attach = () => {
				if (!w.host.isConnected && document.body) document.body.append(w.host);
			};
			attach();
			// Turbo, Astro and friends swap <body> and drop the host: put it back at once (the
			// swap changes <html>'s children), and check now and then for other removals.
			new MutationObserver(attach).observe(document.documentElement, { childList: true });
			setInterval(attach, 1000);
			for (const name of ["turbo:load", "astro:after-swap", "pageshow"])
				document.addEventListener(name, attach);
			widget = w;
			if (data.open === "true") w.open();
			for (const run of queued.splice(0)) run();
			emit("ready");
		} catch (e) {
			report(e);
		}
	};
	if (document.body) start();
	else document.addEventListener("DOMContentLoaded", start, { once: true });
}
