/**
 * `GET /api/media/:id` (SPEC §4.4): files of the conversation behind signed, expiring URLs. Files
 * we hold are served from the database; files that live in Telegram are streamed through, so the
 * bot token and file ids never reach a browser. Ranges are honoured for audio and video players.
 */
import { Elysia, t } from "elysia";
import { AppError } from "../core/errors.ts";
import { mediaById } from "../core/media.ts";
import type { WebDeps } from "./deps.ts";
import { INLINE_IMAGE_TYPES } from "./file-type.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A single `bytes=a-b` range within `size`; null when absent, "invalid" when unsatisfiable. */
export function parseRange(
	header: string | null,
	size: number,
): { start: number; end: number } | null | "invalid" {
	if (!header) return null;
	const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (!match || (match[1] === "" && match[2] === "")) return "invalid";
	let start: number;
	let end: number;
	if (match[1] === "") {
		start = Math.max(0, size - Number(match[2]));
		end = size - 1;
	} else {
		start = Number(match[1]);
		end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
	}
	return start > end || start >= size ? "invalid" : { start, end };
}

/** `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 6266). */
function disposition(kind: "inline" | "attachment", name: string | null) {
	if (!name) return kind;
	const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
	return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Players and images the widget shows in place are served inline; documents, and images a
 * browser cannot show (HEIC, BMP, …), are downloads the widget offers by file name.
 */
function shownInline(kind: string, mimeType: string): boolean {
	if (kind === "document") return false;
	return kind !== "image" || INLINE_IMAGE_TYPES.has(mimeType);
}

export function mediaRoutes(deps: WebDeps) {
	return new Elysia({ name: "media-routes" }).get(
		"/api/media/:id",
		async ({ params, query, request }) => {
			if (!UUID.test(params.id) || !deps.media.verify(params.id, query.exp, query.sig))
				throw new AppError("MEDIA_FORBIDDEN", "This media link is invalid or has expired.", 403);
			const file = await mediaById(deps.core.database, params.id);
			if (!file) throw new AppError("NOT_FOUND", "This file no longer exists.", 404);
			const headers: Record<string, string> = {
				"content-type": file.mimeType,
				"cache-control": "private, max-age=3600",
				"accept-ranges": "bytes",
				"content-disposition": disposition(
					shownInline(file.kind, file.mimeType) ? "inline" : "attachment",
					file.fileName,
				),
			};
			if (file.bytes) {
				const bytes = file.bytes;
				const range = parseRange(request.headers.get("range"), bytes.byteLength);
				if (range === "invalid")
					return new Response(null, {
						status: 416,
						headers: { "content-range": `bytes */${bytes.byteLength}` },
					});
				if (range)
					return new Response(bytes.subarray(range.start, range.end + 1), {
						status: 206,
						headers: {
							...headers,
							"content-range": `bytes ${range.start}-${range.end}/${bytes.byteLength}`,
							"content-length": String(range.end - range.start + 1),
						},
					});
				return new Response(bytes, {
					headers: { ...headers, "content-length": String(bytes.byteLength) },
				});
			}
			if (!file.telegramFileId) throw new AppError("NOT_FOUND", "This file no longer exists.", 404);
			const upstream = await deps.bot.download(file.telegramFileId, request.headers.get("range"));
			if (!upstream || (upstream.status !== 200 && upstream.status !== 206))
				throw new AppError(
					"MEDIA_UNAVAILABLE",
					"The file could not be fetched from Telegram.",
					502,
				);
			for (const name of ["content-length", "content-range"]) {
				const value = upstream.headers.get(name);
				if (value) headers[name] = value;
			}
			return new Response(upstream.body, { status: upstream.status, headers });
		},
		{ query: t.Object({ exp: t.Optional(t.String()), sig: t.Optional(t.String()) }) },
	);
}
