/** The 1–5 rating offered after a close, with optional feedback, then a thank-you. */

import type { WidgetTexts } from "../texts.ts";
import { fill } from "../util.ts";
import { h, show } from "./dom.ts";

export function createRating(t: WidgetTexts, rate: (rating: number, feedback: string) => void) {
	let chosen = 0;
	const stars = [1, 2, 3, 4, 5].map((n) =>
		h(
			"button",
			{
				type: "button",
				class: "star",
				"aria-label": fill(t.rateStar, { n }),
				"aria-pressed": "false",
				onclick: () => {
					chosen = n;
					stars.forEach((star, i) => {
						star.classList.toggle("on", i < n);
						star.setAttribute("aria-pressed", String(i === n - 1));
					});
					submit.disabled = false;
				},
			},
			"★",
		),
	);
	const feedback = h("textarea", { rows: 2, "aria-label": t.feedback, placeholder: t.feedback });
	const submit = h(
		"button",
		{
			type: "button",
			class: "primary",
			disabled: true,
			onclick: () => rate(chosen, feedback.value.trim()),
		},
		t.sendRating,
	);
	const form = h(
		"div",
		null,
		h("p", null, t.rateTitle),
		h("div", { class: "stars" }, ...stars),
		feedback,
		submit,
	);
	const thanks = h("p", { class: "thanks", hidden: true }, t.thanks);
	const el = h("section", { class: "rating", hidden: true }, form, thanks);

	return {
		el,
		/** `ask`: offer the rating; `thanks`: rated; `none`: hidden. */
		set(state: "ask" | "thanks" | "none") {
			show(el, state !== "none");
			show(form, state === "ask");
			show(thanks, state === "thanks");
			submit.disabled = state !== "ask" || chosen === 0;
		},
	};
}
