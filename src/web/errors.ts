/**
 * One error mapper for the whole web door: every failure, whether ours, Elysia's (validation,
 * parse, unknown route) or unexpected, leaves as the envelope with a stable code. Library
 * messages, stacks and SQL never reach the client; unexpected errors are logged with context.
 */
import { Elysia } from "elysia";
import { errorFacts } from "../core/error-facts.ts";
import { AppError } from "../core/errors.ts";
import type { Logger } from "../logger.ts";
import { failure } from "./envelope.ts";

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
 * True when `error` (or an error it wraps: Drizzle puts the driver's error in `cause`) says the
 * database is unreachable, as opposed to a bug or a bad query. SQLSTATE class 08 is the
 * standard's "connection exception".
 */
export function isDatabaseUnavailable(error: unknown): boolean {
	for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
			return true;
		const cause = (e as { cause?: unknown }).cause;
		// Only the innermost message: Drizzle's wrapper quotes the query's parameters (user text).
		const message = (e as { message?: unknown }).message;
		if (!cause && typeof message === "string" && UNAVAILABLE_MESSAGE.test(message)) return true;
		e = cause;
	}
	return false;
}

/**
 * True when `error` (or an error it wraps) is PostgreSQL's foreign-key violation: a row refers
 * to one that is gone, such as a customer merged into another while a write for it was queued.
 */
export function isForeignKeyViolation(error: unknown): boolean {
	for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
		if ((e as { code?: unknown }).code === "23503") return true;
		e = (e as { cause?: unknown }).cause;
	}
	return false;
}

/**
 * The connection failure's code (or the innermost message, which for these errors is the
 * driver's own wording, never a query or its parameters).
 */
function connectionFailure(error: unknown): string {
	let e = error;
	for (let depth = 0; depth < 5; depth++) {
		const cause = e && typeof e === "object" ? (e as { cause?: unknown }).cause : undefined;
		if (!cause) break;
		e = cause;
	}
	const code = e && typeof e === "object" ? (e as { code?: unknown }).code : undefined;
	return typeof code === "string" ? code : String((e as { message?: unknown })?.message ?? e);
}

/** Per-route code for a request that fails schema validation (default INVALID_REQUEST). */
const validationCodes: Record<string, string> = {
	"/api/chat/message": "INVALID_MESSAGE",
	"/api/chat/history": "INVALID_PARAMS",
};

export function errorHandling(log: Logger) {
	return new Elysia({ name: "errors" }).onError(
		{ as: "global" },
		({ code, error, path, request, set }) => {
			const reply = (status: number, errorCode: string, message: string) => {
				set.status = status;
				set.headers["content-type"] = "application/json; charset=utf-8";
				return failure(errorCode, message);
			};
			// Our body reader's errors reach us wrapped in Elysia's ParseError.
			const cause = (error as { cause?: unknown }).cause;
			const own = error instanceof AppError ? error : cause instanceof AppError ? cause : undefined;
			if (own) {
				Object.assign(set.headers, own.headers);
				return reply(own.status, own.code, own.message);
			}
			switch (code) {
				case "VALIDATION":
					return reply(
						400,
						validationCodes[path] ?? "INVALID_REQUEST",
						"The request is not valid.",
					);
				case "PARSE":
					return reply(400, "INVALID_JSON", "The request body could not be parsed.");
				case "NOT_FOUND":
					return reply(404, "NOT_FOUND", "No such endpoint.");
				case "INVALID_COOKIE_SIGNATURE":
					return reply(400, "INVALID_REQUEST", "The request is not valid.");
			}
			const status = Number((error as { status?: unknown }).status);
			if (status === 413) return reply(413, "PAYLOAD_TOO_LARGE", "The request body is too large.");
			if (status === 415)
				return reply(415, "UNSUPPORTED_MEDIA_TYPE", "The request content type is not supported.");
			// Nothing to fix in the request: the database is down or restarting, and postgres.js
			// reconnects by itself once it is back.
			if (isDatabaseUnavailable(error)) {
				log.warn("database unavailable", {
					method: request.method,
					path,
					error: connectionFailure(error),
				});
				set.headers["retry-after"] = "5";
				return reply(
					503,
					"SERVICE_UNAVAILABLE",
					"The service is temporarily unavailable. Please try again shortly.",
				);
			}
			// The request's body and the error's message (which may quote it) stay out of the log:
			// the route, the kind of failure and an id the client is given to quote.
			const facts = errorFacts(error);
			log.error("unhandled web error", {
				method: request.method,
				path,
				code: String(code),
				...facts,
			});
			return reply(
				500,
				"INTERNAL_ERROR",
				`Something went wrong on our side. Please try again. (ref ${facts.errorId})`,
			);
		},
	);
}
