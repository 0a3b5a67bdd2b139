/**
 * Request parsing for the Bot API double: the four ways Telegram accepts parameters
 * (query string, `application/json`, `application/x-www-form-urlencoded`, `multipart/form-data`)
 * and typed accessors that coerce and validate the way Telegram does.
 */
import { badRequest } from "./telegram-double-errors.ts";

/** What a recorded call shows instead of an uploaded file's bytes. */
export interface UploadedFileInfo {
	name: string;
	type: string;
	size: number;
}

export type Params = Record<string, unknown>;

export interface ParsedRequest {
	/** Parameters after coercion; uploaded files appear as {@link UploadedFileInfo}. */
	params: Params;
	/** Multipart file parts by field name (`photo`, or `file-0` for `attach://file-0`). */
	files: Map<string, File>;
}

/**
 * Fields that are JSON-serialized objects/arrays. In form and multipart bodies they arrive as
 * JSON strings; we must not guess JSON from the value itself, because a text like
 * `[TG] hello` starts with a bracket.
 */
const JSON_FIELDS = new Set([
	"reply_markup",
	"entities",
	"caption_entities",
	"reply_parameters",
	"link_preview_options",
	"allowed_updates",
	"media",
	"commands",
	"scope",
	"message_ids",
	"permissions",
	"options",
	"question_entities",
	"explanation_entities",
	"reaction",
]);

/** Numeric fields; form values are strings and Telegram converts them. */
const NUMBER_FIELDS = new Set([
	"chat_id",
	"from_chat_id",
	"message_id",
	"message_thread_id",
	"reply_to_message_id",
	"offset",
	"limit",
	"timeout",
	"user_id",
	"icon_color",
	"duration",
	"width",
	"height",
	"length",
	"cache_time",
	"max_connections",
	"until_date",
	"latitude",
	"longitude",
	"horizontal_accuracy",
	"live_period",
]);

const BOOLEAN_FIELDS = new Set([
	"disable_notification",
	"protect_content",
	"allow_sending_without_reply",
	"show_alert",
	"drop_pending_updates",
	"disable_web_page_preview",
	"has_spoiler",
	"show_caption_above_media",
	"disable_content_type_detection",
	"supports_streaming",
	"allow_paid_broadcast",
	"only_if_banned",
	"revoke_messages",
	"remove_caption",
]);

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Coerces one string value by field name, as Telegram's server does for form bodies. */
function coerceString(name: string, value: string): unknown {
	if (JSON_FIELDS.has(name)) return parseJsonField(name, value);
	if (NUMBER_FIELDS.has(name) && NUMERIC.test(value)) return Number(value);
	if (BOOLEAN_FIELDS.has(name)) {
		if (value === "true") return true;
		if (value === "false") return false;
	}
	return value;
}

function parseJsonField(name: string, value: string): unknown {
	try {
		return JSON.parse(value);
	} catch {
		throw badRequest(`can't parse ${name} JSON object`);
	}
}

/** JSON bodies are already typed, but clients may still send nested JSON as strings. */
function coerceJsonValue(name: string, value: unknown): unknown {
	if (typeof value === "string") return coerceString(name, value);
	return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function describeFile(file: Blob): UploadedFileInfo {
	return {
		name: file instanceof File ? file.name : "blob",
		type: file.type,
		size: file.size,
	};
}

/**
 * Reads all parameters of a Bot API call. Like Telegram, a body whose content type is not one
 * of the three it understands is ignored (so a JSON string sent without
 * `content-type: application/json` yields "message text is empty", as in production).
 */
export async function parseRequest(req: Request, url: URL): Promise<ParsedRequest> {
	const params: Params = {};
	const files = new Map<string, File>();
	for (const [key, value] of url.searchParams) params[key] = coerceString(key, value);
	if (req.method === "GET" || req.method === "HEAD") return { params, files };

	const type = (req.headers.get("content-type") ?? "").toLowerCase();
	if (type.startsWith("application/json")) {
		const text = await req.text();
		if (text.trim() === "") return { params, files };
		let body: unknown;
		try {
			body = JSON.parse(text);
		} catch {
			throw badRequest("can't parse JSON request body");
		}
		if (!isRecord(body)) throw badRequest("request body must be a JSON object");
		for (const [key, value] of Object.entries(body)) params[key] = coerceJsonValue(key, value);
	} else if (
		type.startsWith("multipart/form-data") ||
		type.startsWith("application/x-www-form-urlencoded")
	) {
		const form = await req.formData().catch(() => {
			throw badRequest("can't parse request body");
		});
		for (const [key, value] of form.entries()) {
			if (typeof value === "string") {
				params[key] = coerceString(key, value);
			} else {
				files.set(key, value);
				params[key] = describeFile(value);
			}
		}
	}
	return { params, files };
}

/** An integer parameter, or undefined when absent. A non-number is a 400 like Telegram's. */
export function intParam(params: Params, name: string): number | undefined {
	const value = params[name];
	if (value === undefined || value === null || value === "") return undefined;
	if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
	if (typeof value === "string" && NUMERIC.test(value)) return Math.trunc(Number(value));
	throw badRequest(`invalid ${name} specified`);
}

/** A required integer parameter; `missing` is Telegram's wording for its absence. */
export function requireInt(params: Params, name: string, missing = `${name} is empty`): number {
	const value = intParam(params, name);
	if (value === undefined) throw badRequest(missing);
	return value;
}

/** A float parameter (coordinates). */
export function numberParam(params: Params, name: string): number | undefined {
	const value = params[name];
	if (value === undefined || value === null || value === "") return undefined;
	const n = typeof value === "number" ? value : Number(value);
	if (!Number.isFinite(n)) throw badRequest(`invalid ${name} specified`);
	return n;
}

/** A string parameter; numbers are accepted and stringified as Telegram does. */
export function strParam(params: Params, name: string): string | undefined {
	const value = params[name];
	if (value === undefined || value === null) return undefined;
	if (typeof value === "string") return value;
	if (typeof value === "number" || typeof value === "boolean") return String(value);
	return undefined;
}

export function boolParam(params: Params, name: string): boolean {
	const value = params[name];
	return value === true || value === "true" || value === 1 || value === "1";
}

/**
 * A JSON-object parameter (already parsed by {@link parseRequest}). The cast is the caller's
 * claim about the shape; the double validates only what Telegram would reject.
 */
export function objParam<T>(params: Params, name: string): T | undefined {
	const value = params[name];
	if (value === undefined || value === null || value === "") return undefined;
	if (typeof value === "string") return parseJsonField(name, value) as T;
	if (typeof value !== "object") throw badRequest(`can't parse ${name} JSON object`);
	return value as T;
}
