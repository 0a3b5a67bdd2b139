/**
 * The round button that opens and closes the panel; its name carries the unread count. The
 * loader paints it; the rest of the widget takes it over when it loads.
 */
import type { LauncherTexts } from "../launcher-texts.ts";
import { fill } from "../util.ts";
import { h, icon, show } from "./dom.ts";

export function createLauncher(t: LauncherTexts, onclick: () => void) {
	const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
	const el = h(
		"button",
		{
			class: "launcher",
			type: "button",
			"aria-expanded": "false",
			"aria-label": t.launcher,
			onclick,
		},
		icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"),
		badge,
	);
	return {
		el,
		setUnread(count: number) {
			badge.textContent = String(count);
			show(badge, count > 0);
			el.setAttribute("aria-label", t.launcher + (count ? fill(t.unread, { n: count }) : ""));
		},
	};
}

export type Launcher = ReturnType<typeof createLauncher>;
