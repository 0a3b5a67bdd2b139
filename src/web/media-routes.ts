/**
 * `GET /api/media/:id`: files of the conversation behind signed, expiring URLs. Files
 * we hold are served from the database; files that live in Telegram are streamed through, so the
 * bot token and file ids never reach a browser. Ranges are honoured for audio and video players,
 * and a range reads only its bytes from the database. Only an allowlist of types is shown inline;
 * everything is served with `Content-Security-Policy: sandbox`, so a file can never run as a page
 * of this origin.
 */
import { sql } from "drizzle-orm";
import { Elysia, t } from "elysia";
import { AppError } from "../core/errors.ts";
import { isUuid } from "../core/ids.ts";
import { mediaSlice } from "../core/media.ts";
import type { WebDeps } from "./deps.ts";
import { Bytes, errorResponses } from "./envelope.ts";
import { webQuotas } from "./quota.ts";

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
 * Types a browser shows in place without running anything: the widget's images and players.
 * Everything else (documents, SVG, HTML, HEIC, whatever a sender claimed) is a download.
 */
export const INLINE_MEDIA_TYPES: ReadonlySet<string> = new Set([
	"image/jpeg",
	"image/png",
	"image/gif",
	"image/webp",
	"audio/ogg",
	"audio/mpeg",
	"audio/mp4",
	"video/mp4",
	"video/webm",
]);

function shownInline(kind: string, mimeType: string): boolean {
	return kind !== "document" && INLINE_MEDIA_TYPES.has(mimeType.toLowerCase());
}

interface MediaHead {
	id: string;
	customer_id: string;
	kind: string;
	mime_type: string;
	file_name: string | null;
	telegram_file_id: string | null;
	/** Bytes we hold (null when the file lives in Telegram only). */
	stored: number | string | null;
}

export function mediaRoutes(deps: WebDeps) {
	return new Elysia({ name: "media-routes" }).get(
		"/api/media/:id",
		async ({ params, query, request }) => {
			if (!isUuid(params.id) || !deps.media.verify(params.id, query.exp, query.sig))
				throw new AppError("MEDIA_FORBIDDEN", "This media link is invalid or has expired.", 403);
			const database = deps.core.database;
			// The head first, without the bytes: a range then reads only its slice.
			const [file] = await database.query<MediaHead>(sql`
				select id, customer_id, kind, mime_type, file_name, telegram_file_id,
					octet_length(bytes) as stored
				from media where id = ${params.id}`);
			if (!file) throw new AppError("NOT_FOUND", "This file no longer exists.", 404);
			await webQuotas(deps).beforeDownload(file.customer_id);
			const inline = shownInline(file.kind, file.mime_type);
			const headers: Record<string, string> = {
				// A type we would not show inline is not handed to the browser as itself either.
				"content-type": inline ? file.mime_type : "application/octet-stream",
				"cache-control": "private, max-age=3600",
				"accept-ranges": "bytes",
				"content-disposition": disposition(inline ? "inline" : "attachment", file.file_name),
				"content-security-policy": "sandbox",
				"x-content-type-options": "nosniff",
			};
			if (file.stored !== null) {
				const size = Number(file.stored);
				const range = parseRange(request.headers.get("range"), size);
				if (range === "invalid")
					return new Response(null, {
						status: 416,
						headers: { "content-range": `bytes */${size}`, "content-security-policy": "sandbox" },
					});
				const from = range ? range.start : 0;
				const length = range ? range.end - range.start + 1 : size;
				const bytes = await mediaSlice(database, params.id, from, length);
				if (!bytes) throw new AppError("NOT_FOUND", "This file no longer exists.", 404);
				if (range)
					return new Response(bytes, {
						status: 206,
						headers: {
							...headers,
							"content-range": `bytes ${range.start}-${range.end}/${size}`,
							"content-length": String(bytes.byteLength),
						},
					});
				return new Response(bytes, {
					headers: { ...headers, "content-length": String(bytes.byteLength) },
				});
			}
			if (!file.telegram_file_id)
				throw new AppError("NOT_FOUND", "This file no longer exists.", 404);
			const upstream = await deps.bot.download(file.telegram_file_id, request.headers.get("range"));
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
		{
			query: t.Object({ exp: t.Optional(t.String()), sig: t.Optional(t.String()) }),
			response: {
				200: Bytes("The file (206 with Content-Range for a Range request, 416 when unsatisfiable)"),
				...errorResponses({
					codes: {
						403: ["MEDIA_FORBIDDEN"],
						404: ["NOT_FOUND"],
						429: ["QUOTA_EXCEEDED"],
						502: ["MEDIA_UNAVAILABLE"],
					},
				}),
			},
			detail: { summary: "A message's file, by its signed URL" },
		},
	);
}
