/**
 * The text catalogue in use: the configured locale's texts with the config file's overrides on
 * top, and `{name}` placeholders filled in.
 */
import { en, type TextKey } from "./en.ts";
import { ru } from "./ru.ts";

export type Locale = "en" | "ru";
export const catalogues: Record<Locale, Record<TextKey, string>> = { en, ru };

export interface Texts {
	locale: Locale;
	get(key: TextKey, vars?: Record<string, string | number>): string;
}

/**
 * @example createTexts("ru", { ru: { noticeRated: "Оценка: {rating}" } }).get("noticeRated", { rating: 5 })
 */
export function createTexts(
	locale: Locale,
	overrides: Partial<Record<Locale, Partial<Record<TextKey, string>>>> = {},
): Texts {
	const table: Record<TextKey, string> = { ...catalogues[locale], ...overrides[locale] };
	return {
		locale,
		get(key, vars) {
			const template = table[key];
			return vars
				? template.replace(/\{(\w+)\}/g, (whole, name: string) =>
						name in vars ? String(vars[name]) : whole,
					)
				: template;
		},
	};
}
