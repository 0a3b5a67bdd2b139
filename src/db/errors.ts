/**
 * What a database failure means, for every caller (both doors, the core, the workers): the
 * database is unreachable, a row was refused by a constraint, or PostgreSQL asks to try again.
 * Drizzle wraps the driver's error in `cause`, so each predicate looks through a few wrappers.
 */

/** Calls `test` on `error` and the errors it wraps (outermost first) until one answers true. */
function anyCause(error: unknown, test: (e: object, innermost: boolean) => boolean): boolean {
	for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
		const cause = (e as { cause?: unknown }).cause;
		if (test(e, !cause)) return true;
		e = cause;
	}
	return false;
}

const codeOf = (e: object): unknown => (e as { code?: unknown }).code;

/**
 * Failures that mean "the database cannot be reached right now": postgres.js connection errors,
 * socket errors, and the server's own answers while it shuts down, restarts or is full.
 */
const UNAVAILABLE_CODES = new Set([
	"CONNECTION_CLOSED",
	"CONNECTION_ENDED",
	"CONNECTION_DESTROYED",
	"CONNECT_TIMEOUT",
	"ECONNREFUSED",
	"ECONNRESET",
	"EPIPE",
	"ETIMEDOUT",
	"EHOSTUNREACH",
	"ENETUNREACH",
	"ENOTFOUND",
	"EAI_AGAIN",
	"57P01", // admin_shutdown
	"57P02", // crash_shutdown
	"57P03", // cannot_connect_now (starting up, shutting down)
	"53300", // too_many_connections
]);
const UNAVAILABLE_MESSAGE =
	/Connection terminated|connection refused|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when `error` (or an error it wraps) says the database is unreachable, as opposed to a bug
 * or a bad query. SQLSTATE class 08 is the standard's "connection exception".
 */
export function isDatabaseUnavailable(error: unknown): boolean {
	return anyCause(error, (e, innermost) => {
		const code = codeOf(e);
		if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
			return true;
		// Only the innermost message: Drizzle's wrapper quotes the query's parameters (user text).
		const message = (e as { message?: unknown }).message;
		return innermost && typeof message === "string" && UNAVAILABLE_MESSAGE.test(message);
	});
}

/**
 * The connection failure's code (or the innermost message, which for these errors is the
 * driver's own wording, never a query or its parameters), for the log.
 */
export function connectionFailure(error: unknown): string {
	let e = error;
	for (let depth = 0; depth < 5; depth++) {
		const cause = e && typeof e === "object" ? (e as { cause?: unknown }).cause : undefined;
		if (!cause) break;
		e = cause;
	}
	const code = e && typeof e === "object" ? codeOf(e) : undefined;
	return typeof code === "string" ? code : String((e as { message?: unknown })?.message ?? e);
}

/**
 * PostgreSQL's foreign-key violation: a row refers to one that is gone, such as a customer
 * merged into another while a write for it was queued.
 */
export function isForeignKeyViolation(error: unknown): boolean {
	return anyCause(error, (e) => codeOf(e) === "23503");
}

/** PostgreSQL's unique violation: another writer stored the same key first. */
export function isUniqueViolation(error: unknown): boolean {
	return anyCause(error, (e) => codeOf(e) === "23505");
}

/** PostgreSQL's "try again" answers: a deadlock victim or a serialization failure. */
export function isRetryable(error: unknown): boolean {
	return anyCause(error, (e) => codeOf(e) === "40P01" || codeOf(e) === "40001");
}

/**
 * Runs `fn` again when PostgreSQL chose it as a deadlock victim or failed it for serialization:
 * nothing of it was committed, so repeating it is safe, and the caller never sees an error for
 * what was only bad timing.
 */
export async function retryingConflicts<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await fn();
		} catch (error) {
			if (attempt >= attempts || !isRetryable(error)) throw error;
			await Bun.sleep(5 * attempt);
		}
	}
}
