/**
 * `POST /api/chat/upload`: one file in a multipart body, judged by its content,
 * within per-type size limits. The body is read with the limit enforced as it streams in, so an
 * oversized upload is refused (413) without ever being held whole.
 */
import { Elysia, t } from "elysia";
import { AppError } from "../core/errors.ts";
import { acceptCustomerUpload, MAX_CAPTION } from "../core/media.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { mediaKinds } from "../db/schema.ts";
import { readLimitedBytes } from "./body.ts";
import type { WebDeps } from "./deps.ts";
import { errorResponses, Ok, ok } from "./envelope.ts";
import { detectFileType, sanitizeFileName } from "./file-type.ts";
import { webQuotas } from "./quota.ts";
import { sessionGuard } from "./session-guard.ts";

/** Room for the multipart boundaries, headers and caption around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

const UploadForm = t.Object({
	file: t.String({ format: "binary" }),
	caption: t.Optional(t.String({ maxLength: MAX_CAPTION })),
});
const UploadedData = t.Object({
	messageId: t.String(),
	type: t.UnionEnum(mediaKinds),
	fileName: t.String(),
	fileSize: t.Number(),
	mimeType: t.String(),
	timestamp: t.String(),
});

const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

export function uploadRoutes(deps: WebDeps) {
	const { imageMaxBytes, documentMaxBytes } = deps.config.uploads;
	const bodyLimit = Math.max(imageMaxBytes, documentMaxBytes) + MULTIPART_OVERHEAD;
	const tooLarge = (limit: number) =>
		new AppError("FILE_TOO_LARGE", `The file is larger than ${mb(limit)}.`, 413);

	return new Elysia({ name: "upload-routes", prefix: "/api/chat" })
		.use(sessionGuard(deps.core.database))
		.post(
			"/upload",
			async ({ session, request, set }) => {
				deps.limits.take("upload", session.customerId);
				// Counted before the body is read; given back however the request ends.
				const quotas = webQuotas(deps);
				using slot = quotas.enterUpload(session.customerId);
				const type = request.headers.get("content-type") ?? "";
				if (!type.toLowerCase().startsWith("multipart/form-data"))
					throw new AppError(
						"NO_FILE",
						"Send the file as multipart/form-data in the field `file`.",
						400,
					);
				const raw = await readLimitedBytes(request, bodyLimit, () => tooLarge(documentMaxBytes));
				let form: Awaited<ReturnType<Response["formData"]>>;
				try {
					form = await new Response(raw, { headers: { "content-type": type } }).formData();
				} catch {
					throw new AppError("NO_FILE", "The multipart body could not be read.", 400);
				}
				const file = form.get("file");
				if (!(file instanceof Blob) || file.size === 0)
					throw new AppError("NO_FILE", "No file was sent in the field `file`.", 400);
				const declaredName = file instanceof File ? file.name : "";
				const caption = form.get("caption");
				// Refused, not cleaned: the visitor learns why, and nothing is half-stored.
				assertNoControlCharacters(declaredName, "The file name", "INVALID_FILE_NAME");
				assertNoControlCharacters(caption, "The caption");
				const bytes = new Uint8Array(await file.arrayBuffer());
				const detected = await detectFileType(bytes, declaredName);
				if (!detected)
					throw new AppError(
						"INVALID_FILE_TYPE",
						"This kind of file is not accepted. Send an image, a PDF, an office document, an archive (ZIP, RAR, 7z) or plain text.",
						415,
					);
				const limit = detected.kind === "image" ? imageMaxBytes : documentMaxBytes;
				if (bytes.byteLength > limit) throw tooLarge(limit);
				const fileName = sanitizeFileName(declaredName, detected);
				await slot.reserve(bytes.byteLength);
				const { message } = await acceptCustomerUpload(deps.core, {
					customerId: session.customerId,
					kind: detected.kind,
					mimeType: detected.mimeType,
					fileName,
					bytes,
					caption: typeof caption === "string" ? caption : undefined,
					openingLimit: quotas.openingLimit(session.customerId),
				});
				quotas.started(session.customerId);
				set.status = 201;
				return ok({
					messageId: message.id,
					type: detected.kind,
					fileName,
					fileSize: bytes.byteLength,
					mimeType: detected.mimeType,
					timestamp: message.createdAt,
				});
			},
			{
				session: true,
				response: {
					201: Ok(UploadedData),
					...errorResponses({
						session: true,
						codes: {
							400: ["NO_FILE", "INVALID_MESSAGE", "INVALID_FILE_NAME", "MESSAGE_TOO_LONG"],
							413: ["FILE_TOO_LARGE"],
							415: ["INVALID_FILE_TYPE"],
							429: ["RATE_LIMITED", "QUOTA_EXCEEDED"],
						},
					}),
				},
				// Never parsed before the handler: the upload slot is counted before the body arrives,
				// and the body is read with its size limit by the handler itself.
				parse: "none",
				detail: {
					summary: "Send a file (image, document) with an optional caption",
					// The route streams its own multipart body (limits while reading), so the shape
					// is described here rather than as a body schema Elysia would parse first.
					requestBody: {
						required: true,
						content: { "multipart/form-data": { schema: UploadForm } },
					},
				},
			},
		);
}
