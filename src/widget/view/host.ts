/**
 * The widget's element on the host page: `<topicdesk-widget>` with an open shadow root that
 * carries the stylesheets, the side of the page it sits on and the brand colour.
 */
import { inkFor } from "../util.ts";
import { h } from "./dom.ts";

/** Adds a stylesheet to the shadow root (constructable: a strict host CSP does not refuse it). */
export function adopt(root: ShadowRoot, css: string) {
	const sheet = new CSSStyleSheet();
	sheet.replaceSync(css);
	root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
}

export function createHost(css: string, left: boolean, color?: string) {
	const host = document.createElement("topicdesk-widget");
	const root = host.attachShadow({ mode: "open" });
	adopt(root, css);
	// Bun's CSS printer mangles integers above 2^24 such as 2147483647, so the top layer is set here.
	host.style.setProperty("z-index", "2147483647", "important");
	if (left) host.setAttribute("data-position", "left");
	if (color) {
		// Resolve any CSS colour to rgb() so its contrast can be computed.
		const probe = h("i");
		probe.style.setProperty("color", color, "important");
		document.documentElement.append(probe);
		const resolved = getComputedStyle(probe).color;
		probe.remove();
		host.style.setProperty("--brand", resolved);
		host.style.setProperty("--ink", inkFor(resolved));
	}
	return { host, root };
}
