/**
 * What an uploaded file really is, judged by its first bytes, never by the name or the declared
 * type a client sends. Only kinds a support conversation needs are accepted.
 */

export interface DetectedType {
	kind: "image" | "document";
	mimeType: string;
	/** The extension the stored name gets when the client's name has none that fits. */
	extension: string;
}

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0) =>
	signature.every((byte, i) => bytes[offset + i] === byte);
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

const ZIP_DOCUMENTS: Record<string, string> = {
	docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	odt: "application/vnd.oasis.opendocument.text",
	ods: "application/vnd.oasis.opendocument.spreadsheet",
	zip: "application/zip",
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

function extensionOf(name: string): string {
	const dot = name.lastIndexOf(".");
	return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
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

/** The file's type from its content, or null when it is not one we accept. */
export function detectFileType(bytes: Uint8Array, fileName: string): DetectedType | null {
	if (bytes.length === 0) return null;
	if (startsWith(bytes, [0xff, 0xd8, 0xff]))
		return { kind: "image", mimeType: "image/jpeg", extension: "jpg" };
	if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
		return { kind: "image", mimeType: "image/png", extension: "png" };
	if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a")))
		return { kind: "image", mimeType: "image/gif", extension: "gif" };
	if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8))
		return { kind: "image", mimeType: "image/webp", extension: "webp" };
	if (startsWith(bytes, ascii("%PDF-")))
		return { kind: "document", mimeType: "application/pdf", extension: "pdf" };
	const extension = extensionOf(fileName);
	if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
		const known = ZIP_DOCUMENTS[extension];
		return {
			kind: "document",
			mimeType: known ?? "application/zip",
			extension: known ? extension : "zip",
		};
	}
	if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
		const known = OLE_DOCUMENTS[extension];
		return known ? { kind: "document", mimeType: known, extension } : null;
	}
	const text = TEXT_DOCUMENTS[extension] ?? (extension === "" ? "text/plain" : undefined);
	if (text && isPlainText(bytes))
		return { kind: "document", mimeType: text, extension: extension || "txt" };
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
	const keep = extension === type.extension || (type.extension === "jpg" && extension === "jpeg");
	return `${stem}.${keep ? extension : type.extension}`;
}
