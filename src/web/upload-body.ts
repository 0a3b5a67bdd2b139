/**
 * An upload's body, read as it streams in: the file goes into one buffer (never a second copy
 * of it), the caption into a short string, and everything is cut off as soon as it breaks a rule:
 * the body's or the file's size (413), a malformed body (400), or a body arriving slower than the
 * minimum rate (408), which would otherwise hold an upload slot for as long as its sender likes.
 */
import { AppError } from "../core/errors.ts";
import { dropped } from "../core/garbage.ts";
import { SNIFF_BYTES } from "./file-type.ts";
import { boundaryOf, MultipartError, MultipartParser } from "./multipart.ts";

/** A caption's bytes: its 1,024 characters in UTF-8, and room for the line breaks as CRLF. */
const MAX_CAPTION_BYTES = 8 * 1024;
/** The file's buffer grows by doubling from here... */
const FIRST_CAPACITY = 64 * 1024;
/** ...until this much arrived; then it takes the size the body declared, at once. */
const TRUST_DECLARED_AFTER = 1024 * 1024;

export interface UploadBodyOptions {
	/** The whole body, boundaries and caption included. */
	maxBodyBytes: number;
	/** The file's limit before its type is known. */
	maxFileBytes: number;
	/** The file's limit once its type can be told (SNIFF_BYTES of it, or all of a smaller file). */
	limitFor(head: Uint8Array, fileName: string): Promise<number>;
	/** The refusal of a file over `limit` bytes. */
	tooLarge(limit: number): Error;
	/** A body slower than this on average... */
	minBytesPerSecond: number;
	/** ...once this long has passed since it began, is cut. */
	minRateAfterMs: number;
}

export interface UploadBody {
	fileName: string;
	/** The file's bytes: a view of its one buffer. */
	bytes: Uint8Array;
	caption?: string;
}

/** The 408 of a body slower than the minimum rate. */
export const uploadTooSlow = (minBytesPerSecond: number) =>
	new AppError(
		"UPLOAD_TOO_SLOW",
		`The upload was slower than ${Math.round(minBytesPerSecond / 1024)} KB/s and was stopped. Check the connection and try again.`,
		408,
		// The rest of the body is not waited for: the connection ends with the answer.
		{ connection: "close" },
	);

/** The body stopped arriving: the client went away, or the server closed an idle connection. */
export const uploadInterrupted = () =>
	new AppError("UPLOAD_INTERRUPTED", "The upload was interrupted before it was complete.", 400);

const noFile = (message: string) => new AppError("NO_FILE", message, 400);

/** One file's bytes in one buffer, grown as they arrive (see FIRST_CAPACITY). */
class FileBuffer {
	private buffer = new Uint8Array(0);
	length = 0;

	constructor(
		private readonly declared: number,
		private readonly max: number,
	) {}

	push(bytes: Uint8Array): void {
		const needed = this.length + bytes.byteLength;
		if (needed > this.buffer.byteLength) {
			const doubled = Math.max(FIRST_CAPACITY, this.buffer.byteLength * 2);
			const target = this.declared > 0 && needed >= TRUST_DECLARED_AFTER ? this.declared : doubled;
			const grown = new Uint8Array(Math.max(needed, Math.min(target, this.max)));
			grown.set(this.buffer.subarray(0, this.length));
			this.buffer = grown;
		}
		this.buffer.set(bytes, this.length);
		this.length = needed;
	}

	view(): Uint8Array {
		return this.buffer.subarray(0, this.length);
	}
}

/**
 * Reads the upload form of `request` (fields `file` and `caption`) within `options`' limits.
 *
 * @example const { fileName, bytes, caption } = await readUploadBody(request, options);
 */
export async function readUploadBody(
	request: Request,
	options: UploadBodyOptions,
): Promise<UploadBody> {
	const boundary = boundaryOf(request.headers.get("content-type") ?? "");
	if (!boundary) throw noFile("Send the file as multipart/form-data in the field `file`.");
	const declared = Number(request.headers.get("content-length") ?? "0") || 0;
	if (declared > options.maxBodyBytes) throw options.tooLarge(options.maxFileBytes);
	if (!request.body) throw noFile("No file was sent in the field `file`.");

	let file: FileBuffer | undefined;
	let fileName = "";
	let fileDone = false;
	let limit = options.maxFileBytes;
	let sniffed = false;
	let caption: string | undefined;
	let captionBytes: Buffer[] | undefined;
	let current: "file" | "caption" | "other" = "other";
	const parser = new MultipartParser(boundary, {
		start(head) {
			if (head.name === "file" && head.fileName !== undefined && !file) {
				file = new FileBuffer(declared, options.maxBodyBytes);
				fileName = head.fileName;
				current = "file";
			} else if (head.name === "caption" && head.fileName === undefined && !captionBytes) {
				captionBytes = [];
				current = "caption";
			} else current = "other";
		},
		data(bytes) {
			if (current === "file" && file) {
				if (file.length + bytes.byteLength > limit) throw options.tooLarge(limit);
				file.push(bytes);
			} else if (current === "caption" && captionBytes) {
				captionBytes.push(Buffer.from(bytes));
				if (captionBytes.reduce((sum, part) => sum + part.length, 0) > MAX_CAPTION_BYTES)
					throw new AppError("MESSAGE_TOO_LONG", "The caption is too long.", 400);
			}
		},
		end() {
			if (current === "file") fileDone = true;
			if (current === "caption" && captionBytes)
				caption = Buffer.concat(captionBytes).toString("utf8");
			current = "other";
		},
	});

	const reader = request.body.getReader();
	const started = performance.now();
	let received = 0;
	let slow = false;
	// A stalled body yields no chunk to check it by: a timer checks the average rate.
	const watch = setInterval(
		() => {
			const elapsed = performance.now() - started;
			if (elapsed < options.minRateAfterMs) return;
			if (received >= (options.minBytesPerSecond * elapsed) / 1000) return;
			slow = true;
			reader.cancel().catch(() => {});
		},
		Math.min(1000, Math.max(50, options.minRateAfterMs / 4)),
	);
	try {
		for (;;) {
			let chunk: Awaited<ReturnType<typeof reader.read>>;
			try {
				chunk = await reader.read();
			} catch {
				throw slow ? uploadTooSlow(options.minBytesPerSecond) : uploadInterrupted();
			}
			if (slow) throw uploadTooSlow(options.minBytesPerSecond);
			if (chunk.done) break;
			received += chunk.value.byteLength;
			if (received > options.maxBodyBytes) throw options.tooLarge(options.maxFileBytes);
			parser.write(chunk.value);
			// Its bytes are in the file's buffer now; the chunk is garbage.
			dropped(chunk.value.byteLength);
			// The file's own limit as soon as its first bytes tell what it is.
			if (file && !sniffed && (file.length >= SNIFF_BYTES || fileDone)) {
				sniffed = true;
				limit = Math.min(limit, await options.limitFor(file.view(), fileName));
				if (file.length > limit) throw options.tooLarge(limit);
			}
		}
		parser.finish();
	} catch (error) {
		reader.cancel().catch(() => {});
		if (error instanceof MultipartError)
			throw new AppError("NO_FILE", "The multipart body could not be read.", 400);
		throw error;
	} finally {
		clearInterval(watch);
	}
	const bytes = (file as FileBuffer | undefined)?.view();
	if (!bytes || bytes.byteLength === 0) throw noFile("No file was sent in the field `file`.");
	return { fileName, bytes, ...(caption !== undefined && { caption }) };
}
