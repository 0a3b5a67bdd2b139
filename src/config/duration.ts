/**
 * Durations as written in the config file ("90s", "10m", "2h", "7d", "500ms") and their value in
 * milliseconds.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * JSON-schema pattern of a duration string, for the config file schema. It only checks the
 * shape; {@link checkDuration} also rejects zero and absurd lengths and gives the message.
 */
export const DURATION_PATTERN = "^[0-9]+(ms|s|m|h|d)$";

const DURATION_REGEXP = /^(\d+)(ms|s|m|h|d)$/;

/**
 * Longest accepted duration. Nothing in the product wants more than a year, and a cap keeps a
 * typo ("7000000d") from becoming a timestamp that Date and PostgreSQL cannot represent.
 */
const MAX_DURATION_MS = 365 * UNIT_MS.d;

/** A duration in milliseconds, or why the text is not one (a phrase to put after a key name). */
export type DurationCheck = { ok: true; ms: number } | { ok: false; message: string };

/**
 * Checks a duration string without throwing, for callers that collect every problem.
 *
 * @example checkDuration("10m") // { ok: true, ms: 600000 }
 */
export function checkDuration(text: string): DurationCheck {
	const match = DURATION_REGEXP.exec(text);
	const amount = match?.[1];
	const unit = match?.[2] as keyof typeof UNIT_MS | undefined;
	if (amount === undefined || unit === undefined) {
		return {
			ok: false,
			message: `must be a duration: a whole number and a unit (ms, s, m, h or d), e.g. "90s", "10m", "2h", "7d" (got ${JSON.stringify(text)})`,
		};
	}
	const ms = Number(amount) * UNIT_MS[unit];
	if (ms === 0) {
		return { ok: false, message: `must be longer than zero (got ${JSON.stringify(text)})` };
	}
	if (ms > MAX_DURATION_MS) {
		return { ok: false, message: `must be at most 365d (got ${JSON.stringify(text)})` };
	}
	return { ok: true, ms };
}

/**
 * Converts a duration string to milliseconds; throws a RangeError saying what is accepted
 * otherwise.
 *
 * @example parseDuration("90s") // 90000
 */
export function parseDuration(text: string): number {
	const checked = checkDuration(text);
	if (!checked.ok) throw new RangeError(`duration ${checked.message}`);
	return checked.ms;
}
