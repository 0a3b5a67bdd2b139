/**
 * The scrolling log around the message list: the "load earlier" button (also pressed by scrolling
 * to the top) and the hint shown while the list is empty. It follows the bottom when the visitor
 * is there or sent the message; older pages go on top without moving what the visitor sees.
 */
import type { Message, Pending } from "../store.ts";
import type { WidgetTexts } from "../texts.ts";
import { h, show } from "./dom.ts";
import { createList, type ListActions } from "./messages.ts";

export interface LogActions extends ListActions {
	older(): void;
}

export function createLog(t: WidgetTexts, act: LogActions) {
	const more = h(
		"button",
		{ class: "more", type: "button", hidden: true, onclick: () => act.older() },
		t.loadEarlier,
	);
	const messages = createList(t, act);
	const el = h(
		"div",
		{ class: "log", role: "log", tabindex: "0", "aria-label": t.messages },
		more,
		messages.list,
	);
	const hint = h("p", { class: "hint" }, t.empty);
	el.addEventListener("scroll", () => {
		if (el.scrollTop < 40 && !more.hidden) act.older();
	});

	const nearBottom = () => el.scrollHeight - el.scrollTop - el.clientHeight < 80;
	const toBottom = () => {
		el.scrollTop = el.scrollHeight;
	};
	const refreshHint = () => show(hint, messages.size === 0);

	return {
		el,
		hint,
		toBottom,
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
		/** Older messages go on top; the distance from the bottom is kept, so nothing jumps. */
		prepend(list: Message[]) {
			const keep = el.scrollHeight - el.scrollTop;
			for (const m of list) messages.message(m);
			refreshHint();
			el.scrollTop = el.scrollHeight - keep;
		},
	};
}
