/**
 * Request bodies: JSON only (uploads are multipart and handled by their route), at most 1 MB,
 * read with the limit enforced while streaming so an oversized body is never held in memory.
 */
import { Elysia } from "elysia";
import { AppError } from "../core/errors.ts";

export const JSON_BODY_LIMIT = 1024 * 1024;

const tooLarge = () =>
	new AppError("PAYLOAD_TOO_LARGE", "The request body is larger than 1 MB.", 413);

/**
 * Reads a body, refusing it as soon as it passes `limit` bytes: at once when Content-Length says
 * so, otherwise while it streams in.
 */
export async function readLimitedBytes(
	request: Request,
	limit: number,
	refuse: () => Error = tooLarge,
): Promise<Uint8Array> {
	const declared = Number(request.headers.get("content-length") ?? "0");
	if (declared > limit) throw refuse();
	if (!request.body) return new Uint8Array();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of request.body) {
		size += chunk.byteLength;
		if (size > limit) throw refuse();
		chunks.push(chunk);
	}
	return Buffer.concat(chunks);
}

/** Reads a body as UTF-8 text within `limit` bytes. */
export async function readLimitedText(request: Request, limit: number): Promise<string> {
	return new TextDecoder("utf-8", { fatal: false }).decode(await readLimitedBytes(request, limit));
}

const unsupported = () => {
	throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.", 415);
};

export function jsonBodies() {
	return new Elysia({ name: "json-bodies" }).onParse(
		{ as: "global" },
		async ({ request, contentType, path }) => {
			const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
			// The upload route streams its own body; nothing else takes multipart.
			if (type === "multipart/form-data") return path === "/api/chat/upload" ? {} : unsupported();
			const text = await readLimitedText(request, JSON_BODY_LIMIT);
			if (text.trim() === "") return null;
			if (type !== "application/json" && !type.endsWith("+json"))
				throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.", 415);
			try {
				return JSON.parse(text) as unknown;
			} catch {
				throw new AppError("INVALID_JSON", "The request body is not valid JSON.", 400);
			}
		},
	);
}

/**
 * Route option for a JSON body. Our reader above still reads every body (it always answers, so
 * Elysia's own JSON parser named here never runs); naming "json" after it only tells the OpenAPI
 * generator, which skips function parsers, that the route's body schema is `application/json`.
 */
export const JSON_BODY = { parse: "json" } as const;
