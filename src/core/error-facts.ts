/**
 * What may be logged about an unexpected error: its kind, the database's SQLSTATE and where in
 * the code it happened, under a fresh id the client is told too. Never its message: a driver's
 * or Drizzle's message quotes the failed query's parameters, which are user text.
 */
export interface ErrorFacts {
	errorId: string;
	errorName: string;
	sqlState?: string;
	at?: string;
}

/** @example log.error("frame failed", errorFacts(error)) // {errorId: "8f3a…", errorName: "DrizzleQueryError", sqlState: "22P05", at: "…"} */
export function errorFacts(error: unknown): ErrorFacts {
	const facts: ErrorFacts = {
		errorId: crypto.randomUUID().slice(0, 8),
		errorName: error instanceof Error ? error.name : typeof error,
	};
	for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
			facts.sqlState = code;
			break;
		}
		e = (e as { cause?: unknown }).cause;
	}
	// Only the stack's frames: the lines before them are the message, which may quote user text.
	const stack = error instanceof Error ? (error.stack ?? "") : "";
	const frames = stack
		.split("\n")
		.filter((line) => /^\s+at /.test(line))
		.slice(0, 6)
		.map((line) => line.trim());
	if (frames.length) facts.at = frames.join(" | ");
	return facts;
}
