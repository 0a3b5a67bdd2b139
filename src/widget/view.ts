/**
 * The widget's DOM: a launcher and a panel inside an open shadow root. It renders what the
 * controller tells it and reports what the visitor does; it holds no conversation state.
 */

import { h, icon, show } from "./dom.ts";
import type { Message, Pending } from "./store.ts";
import css from "./styles.css" with { type: "text" };
import type { WidgetTexts } from "./texts.ts";
import { fill, inkFor } from "./util.ts";
import { createList } from "./view-messages.ts";
import { createRating } from "./view-rating.ts";

export interface ViewActions {
	toggle(): void;
	/** False when the text was refused (too long): the box keeps it. */
	send(text: string): boolean;
	retry(cid: string): void;
	original(id: string): Message | undefined;
	/** `caption`: what was typed in the message box, for the first file ("" when nothing). */
	files(files: File[], caption: string): void;
	older(): void;
	telegram(): void;
	end(): void;
	rate(rating: number, feedback: string): void;
	typing(): void;
}

export interface ViewOptions {
	title: string;
	color?: string;
	left: boolean;
}

const MAX = 4000;
/** Telegram's limit for a caption (the service's too). */
const CAPTION_MAX = 1024;
const PHONE = "(max-width: 639px)";

export function createView(t: WidgetTexts, options: ViewOptions, act: ViewActions) {
	const host = document.createElement("topicdesk-widget");
	const root = host.attachShadow({ mode: "open" });
	const sheet = new CSSStyleSheet();
	sheet.replaceSync(css);
	root.adoptedStyleSheets = [sheet];
	// Bun's CSS printer mangles 2147483647 (field notes 7), so the top layer is set here.
	host.style.setProperty("z-index", "2147483647", "important");
	if (options.left) host.setAttribute("data-position", "left");

	const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
	const launcher = h(
		"button",
		{
			class: "launcher",
			type: "button",
			"aria-expanded": "false",
			"aria-label": t.launcher,
			onclick: () => act.toggle(),
		},
		icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"),
		badge,
	);

	const avatar = h("img", { class: "avatar", alt: "", hidden: true });
	const title = h("h2", { id: "title" }, options.title);
	const statusLine = h("p", { class: "status" });
	const closeButton = h(
		"button",
		{ class: "icon close", type: "button", "aria-label": t.closeChat, onclick: () => act.toggle() },
		icon("M6 6l12 12M18 6L6 18"),
	);
	const banner = h("div", { class: "banner", role: "status" });
	const linked = h("p", { class: "linked", hidden: true });

	const more = h(
		"button",
		{ class: "more", type: "button", hidden: true, onclick: () => act.older() },
		t.loadEarlier,
	);
	const messages = createList(t, { retry: act.retry, enlarge, original: act.original });
	const log = h(
		"div",
		{ class: "log", role: "log", tabindex: "0", "aria-label": t.messages },
		more,
		messages.list,
	);
	const hint = h("p", { class: "hint" }, t.empty);
	const rating = createRating(t, act.rate);
	const alert = h("div", { class: "alert", role: "alert" });
	const uploads = h("div", { class: "uploads" });

	const input = h("textarea", { rows: 1, "aria-label": t.message, placeholder: t.message });
	const counter = h("span", { class: "counter", hidden: true });
	const fileInput = h("input", {
		type: "file",
		multiple: true,
		hidden: true,
		tabindex: "-1",
		"aria-hidden": "true",
	});
	const composer = h(
		"form",
		{ class: "composer" },
		h(
			"button",
			{ class: "icon", type: "button", "aria-label": t.attach, onclick: () => fileInput.click() },
			icon("M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"),
		),
		fileInput,
		input,
		counter,
		h(
			"button",
			{ class: "icon send", type: "submit", "aria-label": t.send },
			icon("M3 20l18-8L3 4v6l12 2-12 2z"),
		),
	);
	const telegramButton = h(
		"button",
		{ type: "button", class: "link", onclick: () => act.telegram() },
		t.telegram,
	);
	const telegramLink = h(
		"a",
		{ class: "link", target: "_blank", rel: "noopener noreferrer", hidden: true },
		t.openTelegram,
	);
	const endButton = h(
		"button",
		{ type: "button", class: "link", onclick: () => act.end() },
		t.endChat,
	);

	const panel = h(
		"div",
		{ class: "panel", role: "dialog", "aria-labelledby": "title", hidden: true },
		h("header", null, avatar, h("div", { class: "who" }, title, statusLine), closeButton),
		banner,
		linked,
		hint,
		log,
		rating.el,
		alert,
		uploads,
		composer,
		h("footer", null, telegramButton, telegramLink, endButton),
	);

	const bigImage = h("img", { alt: t.image });
	const closeImage = h(
		"button",
		{ class: "icon close", type: "button", "aria-label": t.closeImage, onclick: () => closeZoom() },
		icon("M6 6l12 12M18 6L6 18"),
	);
	const zoom = h(
		"div",
		{ class: "zoom", role: "dialog", "aria-modal": "true", "aria-label": t.image, hidden: true },
		bigImage,
		closeImage,
	);
	let zoomFrom: HTMLElement | null = null;
	function enlarge(src: string, from: HTMLElement) {
		bigImage.src = src;
		zoomFrom = from;
		show(zoom, true);
		closeImage.focus();
	}
	function closeZoom() {
		show(zoom, false);
		zoomFrom?.focus();
	}

	root.append(launcher, panel, zoom);

	if (options.color) {
		// Resolve any CSS colour to rgb() so its contrast can be computed.
		const probe = h("i");
		probe.style.setProperty("color", options.color, "important");
		document.documentElement.append(probe);
		const resolved = getComputedStyle(probe).color;
		probe.remove();
		host.style.setProperty("--brand", resolved);
		host.style.setProperty("--ink", inkFor(resolved));
	}

	// Composer: Enter sends, Shift+Enter breaks the line; the counter appears near the limit.
	const submit = () => {
		if (act.send(input.value)) {
			input.value = "";
			resize();
		}
	};
	function resize() {
		input.style.height = "auto";
		input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
		const n = input.value.length;
		counter.textContent = `${n}/${MAX}`;
		counter.classList.toggle("over", n > MAX);
		show(counter, n > MAX - 200);
	}
	composer.addEventListener("submit", (e) => {
		e.preventDefault();
		submit();
	});
	input.addEventListener("keydown", (e) => {
		if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			submit();
		}
	});
	input.addEventListener("input", () => {
		resize();
		act.typing();
	});
	// What is typed when files are attached goes with the first of them as its caption, as in
	// Telegram's own apps. A text too long for a caption stays in the box, to be sent as a message.
	const takeCaption = () => {
		const text = input.value.trim();
		if (!text || text.length > CAPTION_MAX) return "";
		input.value = "";
		resize();
		return text;
	};
	fileInput.addEventListener("change", () => {
		act.files([...(fileInput.files ?? [])], takeCaption());
		fileInput.value = "";
	});
	input.addEventListener("paste", (e) => {
		const files = [...(e.clipboardData?.files ?? [])];
		if (files.length) {
			e.preventDefault();
			act.files(files, takeCaption());
		}
	});
	// Dropping a file beside a drop zone makes the browser open it; only the panel catches drops.
	panel.addEventListener("dragover", (e) => {
		e.preventDefault();
		panel.classList.add("drop");
	});
	panel.addEventListener("dragleave", () => panel.classList.remove("drop"));
	panel.addEventListener("drop", (e) => {
		e.preventDefault();
		panel.classList.remove("drop");
		const files = [...(e.dataTransfer?.files ?? [])];
		if (files.length) act.files(files, takeCaption());
	});
	log.addEventListener("scroll", () => {
		if (log.scrollTop < 40 && !more.hidden) act.older();
	});

	// Escape closes the enlarged image first, then the panel. Tab stays inside a full-screen panel.
	root.addEventListener("keydown", (e) => {
		const event = e as KeyboardEvent;
		if (event.key === "Escape") {
			if (!zoom.hidden) closeZoom();
			else if (!panel.hidden) act.toggle();
			else return;
			event.preventDefault();
		} else if (event.key === "Tab" && (modal() || !zoom.hidden)) {
			const scope = zoom.hidden ? panel : zoom;
			const all = [
				...scope.querySelectorAll<HTMLElement>("button,textarea,a[href],[tabindex='0'],audio"),
			].filter((el) => !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0);
			const first = all[0];
			const last = all.at(-1);
			const active = root.activeElement;
			if (event.shiftKey ? active === first : active === last) {
				event.preventDefault();
				(event.shiftKey ? last : first)?.focus();
			}
		}
	});

	// Full screen on phones: modal, page scroll locked, height from the visual viewport
	// (field notes 8–9).
	const phone = matchMedia(PHONE);
	const viewport = window.visualViewport;
	let saved: { y: number; html: string; body: string } | null = null;
	const modal = () => !panel.hidden && phone.matches;
	function fit() {
		const full = modal();
		panel.toggleAttribute("aria-modal", full);
		if (full) panel.setAttribute("aria-modal", "true");
		panel.style.height = full && viewport ? `${viewport.height}px` : "";
		panel.style.top = full && viewport ? `${viewport.offsetTop}px` : "";
		const body = document.body;
		if (full && !saved && body) {
			saved = {
				y: scrollY,
				html: document.documentElement.style.overflow,
				body: body.style.overflow,
			};
			document.documentElement.style.overflow = body.style.overflow = "hidden";
		} else if (!full && saved) {
			document.documentElement.style.overflow = saved.html;
			if (body) body.style.overflow = saved.body;
			if (scrollY !== saved.y) scrollTo(scrollX, saved.y);
			saved = null;
		}
	}
	phone.addEventListener("change", fit);
	viewport?.addEventListener("resize", fit);
	viewport?.addEventListener("scroll", fit);

	const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
	const toBottom = () => {
		log.scrollTop = log.scrollHeight;
	};
	const refreshHint = () => show(hint, messages.size === 0);

	return {
		host,
		setOpen(open: boolean) {
			const wasInside = panel.contains(root.activeElement) || zoom.contains(root.activeElement);
			show(panel, open);
			if (!open) show(zoom, false);
			launcher.setAttribute("aria-expanded", String(open));
			fit();
			if (open) {
				toBottom();
				input.focus();
			} else if (wasInside) launcher.focus();
		},
		setTitle(text: string) {
			title.textContent = text;
		},
		setAvatar(src: string) {
			avatar.src = src;
			show(avatar, true);
		},
		setStatus(text: string) {
			statusLine.textContent = text;
			show(endButton, !text || text !== t.status_CLOSED);
		},
		setBanner(text: string) {
			if (banner.textContent !== text) banner.textContent = text;
		},
		setLinked(name: string | null) {
			linked.textContent = name ? fill(t.linkedAs, { name }) : t.linked;
			show(linked, true);
			show(telegramButton, false);
			show(telegramLink, false);
		},
		telegramFallback(url: string) {
			telegramLink.setAttribute("href", url);
			show(telegramLink, true);
		},
		setUnread(count: number) {
			badge.textContent = String(count);
			show(badge, count > 0);
			launcher.setAttribute("aria-label", t.launcher + (count ? fill(t.unread, { n: count }) : ""));
		},
		/** Puts back a caption whose file could not be sent, unless something new was typed. */
		restoreDraft(text: string) {
			if (input.value) return;
			input.value = text;
			resize();
		},
		alert(text: string) {
			alert.textContent = text;
		},
		setMore(visible: boolean) {
			show(more, visible);
		},
		/** New or changed message; follows the bottom if the visitor was there or sent it. */
		message(m: Message) {
			const follow = nearBottom() || m.from === "user";
			messages.message(m);
			refreshHint();
			if (follow) toBottom();
		},
		pending(p: Pending) {
			messages.pending(p);
			refreshHint();
			toBottom();
		},
		drop: messages.drop,
		clear() {
			messages.clear();
			refreshHint();
		},
		/** Older messages go on top without moving what the visitor sees (field notes 20). */
		prepend(list: Message[]) {
			const keep = log.scrollHeight - log.scrollTop;
			for (const m of list) messages.message(m);
			refreshHint();
			log.scrollTop = log.scrollHeight - keep;
		},
		rating,
		progress(name: string) {
			const label = fill(t.uploading, { name });
			const bar = h("progress", { max: 1, value: 0, "aria-label": label });
			const row = h("div", { class: "upload" }, h("span", null, label), bar);
			uploads.append(row);
			return {
				set: (share: number) => {
					bar.value = share;
				},
				done: () => row.remove(),
			};
		},
	};
}

export type View = ReturnType<typeof createView>;
