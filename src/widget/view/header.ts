/** The panel's header: the bot's avatar, the title, the ticket's status and the close button. */
import type { WidgetTexts } from "../texts.ts";
import { h, icon, show } from "./dom.ts";

export function createHeader(t: WidgetTexts, title: string, toggle: () => void) {
	const avatar = h("img", { class: "avatar", alt: "", hidden: true });
	const heading = h("h2", { id: "title" }, title);
	const status = h("p", { class: "status" });
	const availability = h("p", { class: "status availability", hidden: true });
	const el = h(
		"header",
		null,
		avatar,
		h("div", { class: "who" }, heading, availability, status),
		h(
			"button",
			{ class: "icon close", type: "button", "aria-label": t.closeChat, onclick: () => toggle() },
			icon("M6 6l12 12M18 6L6 18"),
		),
	);
	return {
		el,
		setTitle(text: string) {
			heading.textContent = text;
		},
		setAvatar(src: string) {
			avatar.src = src;
			show(avatar, true);
		},
		setStatus(text: string) {
			status.textContent = text;
		},
		/** "We're away — back at 09:00"; empty while the desk is open. */
		setAvailability(text: string) {
			availability.textContent = text;
			show(availability, text !== "");
		},
	};
}
