/**
 * Control characters in text from outside. Clients may send tab and line feed; every
 * other C0 control (NUL, BEL, ESC, …, and carriage return), DEL and the C1 controls are refused.
 *
 * Carriage return is refused too: browsers hand a
 * textarea's value over with bare line feeds, and the shipped widget sends nothing else, so a CR
 * only ever comes from a hand-made request. PostgreSQL refuses NUL in text outright, and the
 * others corrupt logs, terminals and Telegram texts.
 *
 * Telegram's updates are not refused (nobody could fix them): their text is stored with these
 * characters removed (`stripControlCharacters`).
 */
import { AppError } from "./errors.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const CONTROL_ALL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** True when `text` holds a control character other than tab and line feed. */
export function hasControlCharacters(text: string): boolean {
	return CONTROL.test(text);
}

/** `text` without control characters other than tab and line feed (Telegram input). */
export function stripControlCharacters(text: string): string {
	return text.replace(CONTROL_ALL, "");
}

/**
 * Refuses client text holding control characters with 400 `code` (default INVALID_MESSAGE);
 * anything that is not a string passes through for the caller's own checks.
 * @example assertNoControlCharacters(body.text) // throws AppError INVALID_MESSAGE on "\u0000"
 */
export function assertNoControlCharacters(
	value: unknown,
	what = "The text",
	code = "INVALID_MESSAGE",
): void {
	if (typeof value === "string" && hasControlCharacters(value))
		throw new AppError(
			code,
			`${what} contains control characters; only tab and line breaks are allowed.`,
			400,
		);
}
