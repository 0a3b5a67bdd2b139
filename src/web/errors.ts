/**
 * One error mapper for the whole web door: every failure, whether ours, Elysia's (validation,
 * parse, unknown route) or unexpected, leaves as the envelope with a stable code. Library
 * messages, stacks and SQL never reach the client; unexpected errors are logged with context.
 */
import { Elysia } from "elysia";
import { errorFacts } from "../core/error-facts.ts";
import { AppError } from "../core/errors.ts";
import { connectionFailure, isDatabaseUnavailable } from "../db/errors.ts";
import type { Logger } from "../observability/logger.ts";
import { failure } from "./envelope.ts";

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
