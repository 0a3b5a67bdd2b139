/**
 * Ids that arrive from clients are checked for shape before they reach a `uuid` column:
 * PostgreSQL rejects a malformed uuid with an error, where the answer should be "not found".
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** @example isUuid("tmp-1") // false */
export function isUuid(value: string): boolean {
	return UUID.test(value);
}
