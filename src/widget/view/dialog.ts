/**
 * The open panel as a dialog. Escape closes the enlarged image first, then the panel; Tab stays
 * inside the enlarged image or a full-screen panel. On phones the panel is full screen and modal:
 * its height follows the visual viewport (the on-screen keyboard shrinks it), the page behind
 * stops scrolling, its position restored when the panel closes, and the back gesture closes it
 * (an entry is pushed on the page's history while it is open). On desktop the panel floats beside
 * the page: a page element that takes focus while entirely hidden behind it closes it, so focus
 * is never out of sight.
 */
import type { Zoom } from "./zoom.ts";

const PHONE = "(max-width: 639px)";

/** Installs the keyboard and phone behaviour; returns `fit`, to be called when the panel opens or closes. */
export function makeDialog(root: ShadowRoot, panel: HTMLElement, zoom: Zoom, toggle: () => void) {
	const phone = matchMedia(PHONE);
	const viewport = window.visualViewport;
	let saved: { y: number; html: string; body: string } | null = null;
	const modal = () => !panel.hidden && phone.matches;

	root.addEventListener("keydown", (e) => {
		const event = e as KeyboardEvent;
		if (event.key === "Escape") {
			if (!zoom.el.hidden) zoom.close();
			else if (!panel.hidden) toggle();
			else return;
			event.preventDefault();
		} else if (event.key === "Tab" && (modal() || !zoom.el.hidden)) {
			const scope = zoom.el.hidden ? panel : zoom.el;
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

	// The page's element that took focus, when the floating panel hides it entirely.
	document.addEventListener("focusin", (e) => {
		if (panel.hidden || modal() || e.target === root.host) return;
		const a = (e.target as Element).getBoundingClientRect?.();
		const b = panel.getBoundingClientRect();
		if (a && a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom)
			toggle();
	});

	// The back gesture closes the full-screen panel: an entry (same URL, same state) is pushed
	// while it is open, and taken back when it closes otherwise.
	let pushed = false;
	addEventListener("popstate", () => {
		if (!pushed) return;
		pushed = false;
		if (!panel.hidden) toggle();
	});
	const followHistory = (full: boolean) => {
		if (full && !pushed) {
			history.pushState(history.state, "");
			pushed = true;
		} else if (!full && pushed) {
			pushed = false;
			history.back();
		}
	};

	function fit() {
		const full = modal();
		followHistory(full);
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
	return fit;
}
