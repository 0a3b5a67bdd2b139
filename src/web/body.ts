/**
 * Request bodies: JSON only (uploads are multipart and handled by their route), at most 1 MB,
 * read with the limit enforced while streaming so an oversized body is never held in memory.
 */
import { Elysia } from "elysia";
import { AppError } from "../core/errors.ts";

export const JSON_BODY_LIMIT = 1024 * 1024;

const tooLarge = () =>
	new AppError("PAYLOAD_TOO_LARGE", "The request body is larger than 1 MB.", 413);

/** Reads a body as UTF-8 text, refusing it as soon as it passes `limit` bytes. */
export async function readLimitedText(request: Request, limit: number): Promise<string> {
	const declared = Number(request.headers.get("content-length") ?? "0");
	if (declared > limit) throw tooLarge();
	if (!request.body) return "";
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of request.body) {
		size += chunk.byteLength;
		if (size > limit) throw tooLarge();
		chunks.push(chunk);
	}
	return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}

export function jsonBodies() {
	return new Elysia({ name: "json-bodies" }).onParse(
		{ as: "global" },
		async ({ request, contentType }) => {
			const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
			if (type === "multipart/form-data") return; // the upload route parses its own body
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
