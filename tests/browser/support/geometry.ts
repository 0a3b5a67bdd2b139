/** Geometry of the widget's controls as the page lays them out, for size and position checks. */
import type { Page } from "playwright-core";

export interface Box {
	name: string;
	top: number;
	bottom: number;
	width: number;
	height: number;
	fontSize: number;
}

/** Every visible control of the widget (links inside message text are part of a sentence). */
export function controls(page: Page): Promise<Box[]> {
	return page.evaluate(`(() => {
		const root = document.querySelector("topicdesk-widget").shadowRoot;
		return [...root.querySelectorAll("button, a[href], textarea, input, audio")]
			.filter((el) => el.getClientRects().length > 0 && !el.closest(".text"))
			.map((el) => {
				const r = el.getBoundingClientRect();
				const name = el.getAttribute("aria-label") || el.textContent.trim().slice(0, 40) || el.tagName;
				const fontSize = parseFloat(getComputedStyle(el).fontSize);
				return { name, top: r.top, bottom: r.bottom, width: r.width, height: r.height, fontSize };
			});
	})()`);
}
