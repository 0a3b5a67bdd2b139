/**
 * What an uploaded file really is, judged by its content (the maintained `file-type` detector,
 * then a few signatures of our own), never by the name or the declared type a client sends. Only
 * an explicit allowlist of kinds a support conversation needs is accepted: executables, HTML,
 * SVG, scripts and anything unknown are refused.
 */
import { fileTypeFromBuffer } from "file-type";

export interface DetectedType {
	/** `image` only for what every browser shows inline (INLINE_IMAGE_TYPES); else `document`. */
	kind: "image" | "document";
	mimeType: string;
	/** The extension the stored name gets when the client's name has none that fits. */
	extension: string;
	/** Other extensions a client's name may keep for this type (`jpeg` for `jpg`). */
	aliases?: string[];
}

/**
 * Images a browser shows inline. Any other image (HEIC/HEIF, BMP) is stored as a document, sent
 * to Telegram as a document and served as an attachment, so the widget shows it by file name.
 */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set([
	"image/jpeg",
	"image/png",
	"image/gif",
	"image/webp",
]);

const asImage = (mimeType: string, extension: string, aliases?: string[]): DetectedType => ({
	kind: "image",
	mimeType,
	extension,
	...(aliases ? { aliases } : {}),
});
const asDocument = (mimeType: string, extension: string, aliases?: string[]): DetectedType => ({
	kind: "document",
	mimeType,
	extension,
	...(aliases ? { aliases } : {}),
});

const ZIP_DOCUMENTS: Record<string, string> = {
	docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	odt: "application/vnd.oasis.opendocument.text",
	ods: "application/vnd.oasis.opendocument.spreadsheet",
	odp: "application/vnd.oasis.opendocument.presentation",
};
const OLE_DOCUMENTS: Record<string, string> = {
	doc: "application/msword",
	xls: "application/vnd.ms-excel",
	ppt: "application/vnd.ms-powerpoint",
};
const TEXT_DOCUMENTS: Record<string, string> = {
	txt: "text/plain",
	log: "text/plain",
	csv: "text/csv",
	json: "application/json",
};

/**
 * The allowlist, keyed by the extension `file-type` reports. Anything it reports that is not
 * here (exe, elf, apk, jar, macro-enabled Office files, …) is refused.
 */
const ALLOWED: Record<string, (mime: string) => DetectedType> = {
	jpg: () => asImage("image/jpeg", "jpg", ["jpeg"]),
	png: () => asImage("image/png", "png"),
	// An animated PNG is a PNG to every browser.
	apng: () => asImage("image/png", "png"),
	gif: () => asImage("image/gif", "gif"),
	webp: () => asImage("image/webp", "webp"),
	// HEIC and HEIF (and their sequences) share `heic` in file-type; the MIME type tells them apart.
	heic: (mime) =>
		asDocument(mime, mime.startsWith("image/heif") ? "heif" : "heic", ["heic", "heif"]),
	bmp: () => asDocument("image/bmp", "bmp"),
	pdf: () => asDocument("application/pdf", "pdf"),
	rtf: () => asDocument("application/rtf", "rtf"),
	rar: () => asDocument("application/vnd.rar", "rar"),
	"7z": () => asDocument("application/x-7z-compressed", "7z"),
	...Object.fromEntries(
		Object.entries(ZIP_DOCUMENTS).map(([extension, mime]) => [
			extension,
			() => asDocument(mime, extension),
		]),
	),
};

function extensionOf(name: string): string {
	const dot = name.lastIndexOf(".");
	return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0) =>
	signature.every((byte, i) => bytes[offset + i] === byte);
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/**
 * `file-type` calls anything starting with "BM" a bitmap; a real one has zeroed reserved bytes
 * and a known DIB header size, which a text file beginning with "BM" never has.
 */
function isBitmap(bytes: Uint8Array): boolean {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes.byteLength < 26 || view.getUint32(6, true) !== 0) return false;
	return [12, 16, 40, 52, 56, 64, 108, 124].includes(view.getUint32(14, true));
}

/**
 * Full signatures of the formats accepted before `file-type` was used, for files it cannot
 * classify (a PNG whose chunks it cannot walk, a ZIP it cannot read to the end).
 */
function bySignature(bytes: Uint8Array, extension: string): DetectedType | null {
	if (startsWith(bytes, [0xff, 0xd8, 0xff])) return asImage("image/jpeg", "jpg", ["jpeg"]);
	if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
		return asImage("image/png", "png");
	if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a")))
		return asImage("image/gif", "gif");
	if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8))
		return asImage("image/webp", "webp");
	if (startsWith(bytes, ascii("%PDF-"))) return asDocument("application/pdf", "pdf");
	if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return zipDocument(extension);
	return null;
}

/** A ZIP archive: an Office document when its name says so (it is a ZIP either way). */
function zipDocument(extension: string): DetectedType {
	const known = ZIP_DOCUMENTS[extension];
	return known ? asDocument(known, extension) : asDocument("application/zip", "zip");
}

/** Plain text: valid UTF-8 without control characters other than tab, CR and LF. */
function isPlainText(bytes: Uint8Array): boolean {
	const sample = bytes.subarray(0, 64 * 1024);
	try {
		const text = new TextDecoder("utf-8", { fatal: true }).decode(sample);
		// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
		return !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text);
	} catch {
		// A multi-byte character cut at the sample's end is not an error of the file.
		return sample.length === bytes.length
			? false
			: isPlainText(sample.subarray(0, sample.length - 4));
	}
}

/**
 * The bytes the detector is given. A type is told by a file's first bytes (and plain text by its
 * first 64 KB, `isPlainText`); only an archive is walked to its end, where a JAR or an APK shows
 * what it is. The detector would otherwise copy up to 10 MB of any PDF to look into it.
 */
export const SNIFF_BYTES = 64 * 1024;
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

/**
 * The file's type from its content, or null when it is not one we accept. Plain text, which no
 * detector can recognise, is accepted only under a text name (txt, log, csv, json) or none.
 * @example await detectFileType(bytes, "IMG_0001.HEIC") // { kind: "document", mimeType: "image/heic", … }
 */
export async function detectFileType(
	bytes: Uint8Array,
	fileName: string,
): Promise<DetectedType | null> {
	if (bytes.length === 0) return null;
	const extension = extensionOf(fileName);
	const sample = startsWith(bytes, ZIP_SIGNATURE) ? bytes : bytes.subarray(0, SNIFF_BYTES);
	const found = await fileTypeFromBuffer(sample).catch(() => undefined);
	if (found) {
		if (found.ext === "zip") return zipDocument(extension);
		if (found.ext === "cfb") {
			// Word, Excel and PowerPoint 97–2003 share one container (so do MSI installers): only
			// the name can tell them apart, and only those three names are accepted.
			const known = OLE_DOCUMENTS[extension];
			return known ? asDocument(known, extension) : null;
		}
		const allowed = ALLOWED[found.ext];
		if (allowed && (found.ext !== "bmp" || isBitmap(bytes))) return allowed(found.mime);
	}
	// Only for what the detector could not name: a ZIP it calls a JAR or an APK stays refused.
	const signed = found ? null : bySignature(bytes, extension);
	if (signed) return signed;
	// A text file may begin with bytes some binary format also begins with ("MZ,…" in a CSV).
	const text = TEXT_DOCUMENTS[extension] ?? (extension === "" ? "text/plain" : undefined);
	if (text && isPlainText(bytes)) return asDocument(text, extension || "txt");
	return null;
}

/**
 * A file name safe to show and to send: no directories, no control or path characters, at most
 * 100 characters, ending in an extension that matches the detected type.
 */
export function sanitizeFileName(raw: string, type: DetectedType): string {
	const base = (raw.split(/[\\/]/).pop() ?? "")
		// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters
		.replace(/[\u0000-\u001F\u007F<>:"|?*]/g, "")
		.replace(/^[.\s]+/, "")
		.trim();
	const stem =
		(base.includes(".") ? base.slice(0, base.lastIndexOf(".")) : base).slice(0, 90) || "file";
	const extension = extensionOf(base);
	const keep = extension === type.extension || (type.aliases?.includes(extension) ?? false);
	return `${stem}.${keep ? extension : type.extension}`;
}
