/**
 * Telegram in the panel: the "Continue in Telegram" button, the plain link shown when the
 * browser refused to open a tab for it, and the line saying the conversation is linked.
 */
import type { WidgetTexts } from "../texts.ts";
import { fill } from "../util.ts";
import { h, show } from "./dom.ts";

export function createTelegram(t: WidgetTexts, start: () => void) {
	const linked = h("p", { class: "linked", hidden: true });
	const button = h("button", { type: "button", class: "link", onclick: () => start() }, t.telegram);
	const link = h(
		"a",
		{ class: "link", target: "_blank", rel: "noopener noreferrer", hidden: true },
		t.openTelegram,
	);
	return {
		linked,
		button,
		link,
		setLinked(name: string | null) {
			linked.textContent = name ? fill(t.linkedAs, { name }) : t.linked;
			show(linked, true);
			show(button, false);
			show(link, false);
		},
		fallback(url: string) {
			link.setAttribute("href", url);
			show(link, true);
		},
	};
}
