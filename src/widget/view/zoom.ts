/** An image enlarged over the page as a modal dialog; closing it gives focus back to its thumbnail. */
import type { WidgetTexts } from "../texts.ts";
import { h, icon, show } from "./dom.ts";

export function createZoom(t: WidgetTexts) {
	const image = h("img", { alt: t.image });
	const closeButton = h(
		"button",
		{ class: "icon close", type: "button", "aria-label": t.closeImage, onclick: () => close() },
		icon("M6 6l12 12M18 6L6 18"),
	);
	const el = h(
		"div",
		{ class: "zoom", role: "dialog", "aria-modal": "true", "aria-label": t.image, hidden: true },
		image,
		closeButton,
	);
	let from: HTMLElement | null = null;
	function close() {
		show(el, false);
		from?.focus();
	}
	return {
		el,
		close,
		enlarge(src: string, thumbnail: HTMLElement) {
			image.src = src;
			from = thumbnail;
			show(el, true);
			closeButton.focus();
		},
	};
}

export type Zoom = ReturnType<typeof createZoom>;
