/**
 * Errors of the Bot API double, shaped exactly like Telegram's error replies
 * (`{ok:false, error_code, description, parameters?}` with the HTTP status equal to the code).
 */
import type { TelegramResponseParameters } from "gramio";

/** A Bot API error reply; handlers throw it and the server turns it into the wire reply. */
export class BotApiError extends Error {
	constructor(
		readonly code: number,
		readonly description: string,
		readonly parameters?: TelegramResponseParameters,
	) {
		super(description);
		this.name = "BotApiError";
	}

	/** The JSON body Telegram sends for this error. */
	toBody(): {
		ok: false;
		error_code: number;
		description: string;
		parameters?: TelegramResponseParameters;
	} {
		return {
			ok: false,
			error_code: this.code,
			description: this.description,
			...(this.parameters ? { parameters: this.parameters } : {}),
		};
	}
}

/** `400 Bad Request: <what>`, the most common Telegram error. */
export function badRequest(what: string): BotApiError {
	return new BotApiError(400, `Bad Request: ${what}`);
}

/** `429 Too Many Requests: retry after N` with `parameters.retry_after = N`. */
export function tooManyRequests(retryAfter: number): BotApiError {
	return new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, {
		retry_after: retryAfter,
	});
}

/** Default descriptions for injected errors given only a code (Telegram's own wording). */
export function defaultDescription(code: number, retryAfter?: number): string {
	switch (code) {
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 409:
			return "Conflict";
		case 429:
			return `Too Many Requests: retry after ${retryAfter ?? 1}`;
		case 500:
			return "Internal Server Error";
		case 502:
			return "Bad Gateway";
		default:
			return "Error";
	}
}

export const ERR = {
	unauthorized: () => new BotApiError(401, "Unauthorized"),
	notFound: () => new BotApiError(404, "Not Found"),
	chatNotFound: () => badRequest("chat not found"),
	blocked: () => new BotApiError(403, "Forbidden: bot was blocked by the user"),
	kicked: () => new BotApiError(403, "Forbidden: bot was kicked from the supergroup chat"),
	threadNotFound: () => badRequest("message thread not found"),
	topicClosed: () => badRequest("TOPIC_CLOSED"),
	topicInvalid: () => badRequest("TOPIC_ID_INVALID"),
	topicNotModified: () => badRequest("TOPIC_NOT_MODIFIED"),
	notModified: () =>
		badRequest(
			"message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
		),
	pollConflict: () =>
		new BotApiError(
			409,
			"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
		),
	webhookActive: () =>
		new BotApiError(
			409,
			"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
		),
} as const;
