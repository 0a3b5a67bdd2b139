/**
 * The one DOM helper. Children are appended as nodes or text nodes, never parsed as HTML, and
 * attributes never carry styles (the host's CSP may forbid inline styles).
 */
type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	attrs?: Attrs | null,
	...children: Child[]
): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	for (const [name, value] of Object.entries(attrs ?? {})) {
		if (typeof value === "function") el.addEventListener(name.slice(2), value);
		else if (value != null && value !== false)
			el.setAttribute(name, value === true ? "" : String(value));
	}
	el.append(...(children.filter((c) => c || c === "") as (Node | string)[]));
	return el;
}

/** A decorative 24×24 icon from one path. */
export function icon(d: string): SVGSVGElement {
	const ns = "http://www.w3.org/2000/svg";
	const svg = document.createElementNS(ns, "svg");
	svg.setAttribute("viewBox", "0 0 24 24");
	svg.setAttribute("aria-hidden", "true");
	const path = document.createElementNS(ns, "path");
	path.setAttribute("d", d);
	svg.append(path);
	return svg;
}

/** Hide or show without touching styles: the `hidden` attribute, enforced by the stylesheet. */
export const show = (el: Element, visible: boolean) => el.toggleAttribute("hidden", !visible);
