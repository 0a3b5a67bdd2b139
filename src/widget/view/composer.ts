/**
 * The message box and its buttons. Enter sends, Shift+Enter breaks the line, and a counter
 * appears near the limit. Files come by the attach button, by pasting, or by dropping them on the
 * panel; what is typed at that moment goes with the first of them as its caption, as in Telegram's
 * own apps, and a text too long for a caption stays in the box, to be sent as a message.
 */
import type { WidgetTexts } from "../texts.ts";
import { h, icon, show } from "./dom.ts";

export interface ComposerActions {
	/** False when the text was refused (too long): the box keeps it. */
	send(text: string): boolean;
	/** `caption`: what was typed in the message box, for the first file ("" when nothing). */
	files(files: File[], caption: string): void;
	typing(): void;
}

const MAX = 4000;
/** Telegram's limit for a caption (the service's too). */
const CAPTION_MAX = 1024;

export function createComposer(t: WidgetTexts, act: ComposerActions) {
	const input = h("textarea", { rows: 1, "aria-label": t.message, placeholder: t.message });
	const counter = h("span", { class: "counter", hidden: true });
	const fileInput = h("input", {
		type: "file",
		multiple: true,
		hidden: true,
		tabindex: "-1",
		"aria-hidden": "true",
	});
	const el = h(
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
	const takeCaption = () => {
		const text = input.value.trim();
		if (!text || text.length > CAPTION_MAX) return "";
		input.value = "";
		resize();
		return text;
	};

	el.addEventListener("submit", (e) => {
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

	return {
		el,
		focus: () => input.focus(),
		/** Dropping a file beside a drop zone makes the browser open it: `panel` catches them all. */
		catchDrops(panel: HTMLElement) {
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
		},
		/** Puts back a caption whose file could not be sent, unless something new was typed. */
		restoreDraft(text: string) {
			if (input.value) return;
			input.value = text;
			resize();
		},
	};
}
