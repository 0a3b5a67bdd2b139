/**
 * The widget's DOM: the panel, put together from small parts, beside the launcher the loader
 * painted in the host's shadow root. It renders what it is told and reports what the visitor
 * does; it holds no conversation state.
 */
import type { Message } from "../store.ts";
import css from "../styles.css" with { type: "text" };
import type { WidgetTexts } from "../texts.ts";
import { createComposer } from "./composer.ts";
import { makeDialog } from "./dialog.ts";
import { h, show } from "./dom.ts";
import { createHeader } from "./header.ts";
import { adopt } from "./host.ts";
import type { Launcher } from "./launcher.ts";
import { createLog } from "./log.ts";
import { createRating } from "./rating.ts";
import { createTelegram } from "./telegram.ts";
import { createUploads } from "./uploads.ts";
import { createZoom } from "./zoom.ts";

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
	/** The shadow root and the launcher in it, as the loader painted them. */
	root: ShadowRoot;
	launcher: Launcher;
}

export function createView(t: WidgetTexts, options: ViewOptions, act: ViewActions) {
	const { root, launcher } = options;
	adopt(root, css);
	const header = createHeader(t, options.title, act.toggle);
	const banner = h("div", { class: "banner", role: "status" });
	const telegram = createTelegram(t, act.telegram);
	const zoom = createZoom(t);
	const log = createLog(t, { ...act, enlarge: zoom.enlarge });
	const rating = createRating(t, act.rate);
	const alert = h("div", { class: "alert", role: "alert" });
	const uploads = createUploads(t);
	const composer = createComposer(t, act);
	const endButton = h(
		"button",
		{ type: "button", class: "link", onclick: () => act.end() },
		t.endChat,
	);
	const panel = h(
		"div",
		{ class: "panel", role: "dialog", "aria-labelledby": "title", hidden: true },
		header.el,
		banner,
		telegram.linked,
		log.hint,
		log.el,
		rating.el,
		alert,
		uploads.el,
		composer.el,
		h("footer", null, telegram.button, telegram.link, endButton),
	);
	root.append(panel, zoom.el);
	composer.catchDrops(panel);
	const fit = makeDialog(root, panel, zoom, act.toggle);

	return {
		setOpen(open: boolean) {
			const wasInside = panel.contains(root.activeElement) || zoom.el.contains(root.activeElement);
			show(panel, open);
			if (!open) show(zoom.el, false);
			launcher.el.setAttribute("aria-expanded", String(open));
			fit();
			if (open) {
				log.toBottom();
				composer.focus();
			} else if (wasInside) launcher.el.focus();
		},
		setTitle: header.setTitle,
		setAvatar: header.setAvatar,
		setAvailability: header.setAvailability,
		setStatus(text: string) {
			header.setStatus(text);
			show(endButton, !text || text !== t.status_CLOSED);
		},
		setBanner(text: string) {
			if (banner.textContent !== text) banner.textContent = text;
		},
		setLinked: telegram.setLinked,
		telegramFallback: telegram.fallback,
		setUnread: launcher.setUnread,
		restoreDraft: composer.restoreDraft,
		alert(text: string) {
			alert.textContent = text;
		},
		setMore: log.setMore,
		message: log.message,
		pending: log.pending,
		drop: log.drop,
		clear: log.clear,
		prepend: log.prepend,
		rating,
		progress: uploads.progress,
	};
}

export type View = ReturnType<typeof createView>;
