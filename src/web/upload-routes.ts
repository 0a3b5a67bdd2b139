/**
 * `POST /api/chat/upload`: one file in a multipart body, judged by its content,
 * within per-type size limits. The body streams into one buffer of the file (upload-body.ts): an
 * oversized upload is refused (413) as soon as it passes its limit, a body slower than the
 * minimum rate is cut (408), and the uploads under way are capped per customer, client IP and
 * network (429) before any byte is read.
 */
import { Elysia, t } from "elysia";
import { AppError } from "../core/errors.ts";
import { acceptCustomerUpload, MAX_CAPTION } from "../core/media.ts";
import { assertNoControlCharacters } from "../core/text.ts";
import { mediaKinds } from "../db/schema.ts";
import { clientIp } from "./client-ip.ts";
import type { WebDeps } from "./deps.ts";
import { errorResponses, Ok, ok } from "./envelope.ts";
import { detectFileType, sanitizeFileName } from "./file-type.ts";
import { webQuotas } from "./quota.ts";
import { sessionGuard } from "./session-guard.ts";
import { readUploadBody } from "./upload-body.ts";

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
			async ({ session, request, server, set }) => {
				deps.limits.take("upload", session.customerId);
				// Counted before the body is read; given back however the request ends.
				const quotas = webQuotas(deps);
				const ip = clientIp(request, server, deps.config.trustProxy);
				using slot = quotas.enterUpload(session.customerId, ip);
				const { limits } = quotas;
				let body: Awaited<ReturnType<typeof readUploadBody>>;
				try {
					body = await readUploadBody(request, {
						maxBodyBytes: bodyLimit,
						maxFileBytes: Math.max(imageMaxBytes, documentMaxBytes),
						// An image's smaller limit applies as soon as its first bytes say it is one.
						limitFor: async (head, name) =>
							(await detectFileType(head, name))?.kind === "image"
								? imageMaxBytes
								: documentMaxBytes,
						tooLarge,
						minBytesPerSecond: limits.uploadMinBytesPerSecond,
						minRateAfterMs: limits.uploadMinRateAfterSeconds * 1000,
					});
				} catch (error) {
					// Slow or abandoned bodies are the sender's problem, not the service's.
					if (
						error instanceof AppError &&
						(error.status === 408 || error.code === "UPLOAD_INTERRUPTED")
					)
						deps.log.warn("upload cut off", { code: error.code, customerId: session.customerId });
					throw error;
				}
				const { fileName: declaredName, bytes, caption } = body;
				// Refused, not cleaned: the visitor learns why, and nothing is half-stored.
				assertNoControlCharacters(declaredName, "The file name", "INVALID_FILE_NAME");
				assertNoControlCharacters(caption, "The caption");
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
					caption,
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
							400: [
								"NO_FILE",
								"INVALID_MESSAGE",
								"INVALID_FILE_NAME",
								"MESSAGE_TOO_LONG",
								"UPLOAD_INTERRUPTED",
							],
							408: ["UPLOAD_TOO_SLOW"],
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
