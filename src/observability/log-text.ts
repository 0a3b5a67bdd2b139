/**
 * Text from outside (a page's error report) made fit for the logs: URLs lose their query string
 * and fragment, where pages carry tokens, session ids and e-mail addresses, and the whole is cut
 * to a size budget.
 */

// A URL runs until whitespace, a quote, a bracket or a backslash (an escaped quote in JSON).
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\`]+/gi;

/**
 * `text` with every URL's `?…` and `#…` removed.
 *
 * @example withoutUrlSecrets("at https://shop.example/cart?token=abc#top") // "at https://shop.example/cart"
 */
export function withoutUrlSecrets(text: string): string {
	return text.replace(URL_IN_TEXT, (url) => url.replace(/[?#].*$/s, ""));
}

/**
 * As many of `texts` as fit in `budget` characters in total (URLs cleaned first), the last one
 * cut short with "…" when it does not fit whole.
 *
 * @example withinBudget(["abc", "defgh"], 6) // ["abc", "de…"]
 */
export function withinBudget(texts: readonly string[], budget: number): string[] {
	const kept: string[] = [];
	let left = budget;
	for (const text of texts) {
		if (left <= 0) break;
		const clean = withoutUrlSecrets(text);
		kept.push(clean.length <= left ? clean : `${clean.slice(0, Math.max(0, left - 1))}…`);
		left -= clean.length;
	}
	return kept;
}
