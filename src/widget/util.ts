/** Small pure helpers, kept free of the DOM so `bun test` can check them. */

/** A UUID v4 from `crypto.getRandomValues`: `crypto.randomUUID` is missing on plain-http pages. */
export function uuid(): string {
	const b = crypto.getRandomValues(new Uint8Array(16));
	b[6] = ((b[6] ?? 0) & 15) | 64;
	b[8] = ((b[8] ?? 0) & 63) | 128;
	const x = Array.from(b, (n) => n.toString(16).padStart(2, "0")).join("");
	return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Text split into plain runs and http(s) links; anything else (javascript:, data:…) stays text. */
export function splitLinks(text: string): { text: string; href?: string }[] {
	const parts: { text: string; href?: string }[] = [];
	let last = 0;
	for (const match of text.matchAll(/\bhttps?:\/\/[^\s<>"']+/gi)) {
		// Trailing punctuation usually ends the sentence, not the URL.
		const url = match[0].replace(/[.,;:!?)\]}]+$/, "");
		const at = match.index ?? 0;
		let href: string | undefined;
		try {
			const parsed = new URL(url);
			if (parsed.protocol === "http:" || parsed.protocol === "https:") href = parsed.href;
		} catch {}
		if (!href) continue;
		if (at > last) parts.push({ text: text.slice(last, at) });
		parts.push({ text: url, href });
		last = at + url.length;
	}
	if (last < text.length) parts.push({ text: text.slice(last) });
	return parts;
}

/** `{n}` / `{name}` placeholders. */
export const fill = (template: string, values: Record<string, string | number>) =>
	template.replace(/\{(\w+)\}/g, (all, key: string) => String(values[key] ?? all));

/** Relative luminance (WCAG 2) of an sRGB colour. */
function luminance([r, g, b]: number[]): number {
	const c = (v = 0) => {
		const s = v / 255;
		return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
	};
	return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
}

const contrast = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

/**
 * Text colour for a brand background: white or dark ink, whichever contrasts more by WCAG.
 * Accepts `rgb(r, g, b)` (a computed style) or `#rgb` / `#rrggbb`.
 */
export function inkFor(color: string): string {
	let rgb = color.match(/\d+(\.\d+)?/g)?.map(Number) ?? [];
	const hex = color.match(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i)?.[1];
	if (hex) {
		const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex;
		rgb = [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16));
	}
	const l = luminance(rgb);
	const ink = "#111827";
	return contrast(l, 1) >= contrast(l, luminance([17, 24, 39])) ? "#fff" : ink;
}

/**
 * The API base (no trailing slash) and the socket URL. The older snippet's `data-api-url` may be
 * `https://x`, `https://x/api/chat` or `https://x/api/chat/`; `data-ws-url` `wss://x/ws/chat` or
 * `wss://x`. Without them, the script's own origin.
 */
export function endpoints(
	scriptSrc: string,
	apiUrl?: string | null,
	wsUrl?: string | null,
): { api: string; ws: string } {
	const base = new URL(apiUrl || "/", scriptSrc || undefined);
	const api = (base.origin + base.pathname)
		.replace(/\/+$/, "")
		.replace(/\/api\/chat$/, "")
		.replace(/\/+$/, "");
	let ws = (wsUrl || api.replace(/^http/, "ws")).replace(/\/+$/, "");
	if (!/\/ws\/chat$/.test(ws)) ws += "/ws/chat";
	return { api, ws };
}
