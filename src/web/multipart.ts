/**
 * A `multipart/form-data` body (RFC 7578) read as it streams in: each part's head is parsed and
 * its bytes are handed on chunk by chunk, so a part is never held whole by the parser. Only what
 * a form sends is understood: a `Content-Disposition` with `name` and `filename`, and the part's
 * `Content-Type`; preamble and epilogue are skipped.
 */

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
/** A part's head (its header lines) beyond this is not a form's. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Enough bytes to end any boundary line or head begun in an earlier chunk. */
const SEAM_BYTES = MAX_HEAD_BYTES + 128;
/** More parts than this are not a form's either. */
const MAX_PARTS = 20;

export interface PartHead {
	/** The form field's name. */
	name: string;
	/** Present (possibly empty) when the part is a file. */
	fileName?: string;
	contentType?: string;
}

export interface PartHandlers {
	/** A part begins. */
	start(head: PartHead): void;
	/** Bytes of the current part, in order; the view is valid only during the call. */
	data(bytes: Uint8Array): void;
	/** The current part is complete. */
	end(): void;
}

/** The body is not a well-formed multipart body. */
export class MultipartError extends Error {}

/**
 * The boundary of a `multipart/form-data` content type, or undefined when there is none (or the
 * type is another one).
 *
 * @example boundaryOf('multipart/form-data; boundary="abc"') // "abc"
 */
export function boundaryOf(contentType: string): string | undefined {
	const [type = "", ...params] = splitParams(contentType);
	if (type.trim().toLowerCase() !== "multipart/form-data") return undefined;
	const boundary = paramsOf(params).get("boundary");
	return boundary && boundary.length <= 70 ? boundary : undefined;
}

/** `a; b="x;y"; c=d` → `["a", ' b="x;y"', " c=d"]`: semicolons inside quotes are kept. */
function splitParams(value: string): string[] {
	const out: string[] = [];
	let current = "";
	let quoted = false;
	for (let i = 0; i < value.length; i++) {
		const char = value[i] as string;
		if (quoted && char === "\\" && i + 1 < value.length) {
			current += char + value[++i];
			continue;
		}
		if (char === '"') quoted = !quoted;
		if (char === ";" && !quoted) {
			out.push(current);
			current = "";
		} else current += char;
	}
	out.push(current);
	return out;
}

/** `name="value"` pairs, names lower-cased, quoted values unescaped. */
function paramsOf(params: string[]): Map<string, string> {
	const found = new Map<string, string>();
	for (const param of params) {
		const at = param.indexOf("=");
		if (at < 0) continue;
		const key = param.slice(0, at).trim().toLowerCase();
		let value = param.slice(at + 1).trim();
		if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
			value = value.slice(1, -1).replace(/\\(.)/g, "$1");
		if (!found.has(key)) found.set(key, value);
	}
	return found;
}

/** A part's header lines → its head; undefined when it names no form field. */
function parseHead(text: string): PartHead | undefined {
	let disposition: Map<string, string> | undefined;
	let contentType: string | undefined;
	for (const line of text.split("\r\n")) {
		const colon = line.indexOf(":");
		if (colon < 0) continue;
		const header = line.slice(0, colon).trim().toLowerCase();
		const value = line.slice(colon + 1).trim();
		if (header === "content-type") contentType = value;
		if (header !== "content-disposition") continue;
		const [kind = "", ...params] = splitParams(value);
		if (kind.trim().toLowerCase() === "form-data") disposition = paramsOf(params);
	}
	const name = disposition?.get("name");
	if (name === undefined) return undefined;
	const fileName = disposition?.get("filename");
	return {
		name,
		...(fileName !== undefined && { fileName }),
		...(contentType !== undefined && { contentType }),
	};
}

type State = "preamble" | "boundary" | "head" | "body" | "done";

/**
 * Feeds a multipart body through `handlers` as chunks arrive. Only a short tail (shorter than the
 * boundary line) and a part's head are ever kept between chunks.
 *
 * @example
 * const parser = new MultipartParser("abc", { start, data, end });
 * for await (const chunk of request.body) parser.write(chunk);
 * parser.finish();
 */
export class MultipartParser {
	/** Every boundary but the first follows a line break; the body is read as if it began with one. */
	private pending: Buffer = Buffer.from(CRLF);
	private state: State = "preamble";
	private readonly delimiter: Buffer;
	private parts = 0;

	constructor(
		boundary: string,
		private readonly handlers: PartHandlers,
	) {
		this.delimiter = Buffer.from(`\r\n--${boundary}`);
	}

	write(chunk: Uint8Array): void {
		let view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
		if (this.pending.length > 0) {
			// Only the seam is copied: what was left over and enough of the chunk to finish a
			// boundary line or a head with it; the chunk itself is read where it is.
			const seam = Buffer.concat([this.pending, view.subarray(0, SEAM_BYTES)]);
			const used = this.consume(seam);
			const past = used - this.pending.length;
			if (past < 0 || seam.length === this.pending.length + view.length) {
				this.pending = Buffer.concat([
					seam.subarray(used),
					view.subarray(seam.length - this.pending.length),
				]);
				return;
			}
			view = view.subarray(past);
		}
		const used = this.consume(view);
		// The rest is short (a tail or a head): copied, so the chunk it came from can be freed.
		this.pending = Buffer.from(view.subarray(used));
	}

	/** The body ended: it must have ended with its closing boundary. */
	finish(): void {
		if (this.state !== "done") throw new MultipartError("The multipart body ended early.");
	}

	/** Handles what `buffer` allows; returns how many of its bytes were used. */
	private consume(buffer: Buffer): number {
		let at = 0;
		for (;;) {
			switch (this.state) {
				case "done":
					return buffer.length;
				case "preamble":
				case "body": {
					const found = buffer.indexOf(this.delimiter, at);
					const until = found >= 0 ? found : buffer.length - this.delimiter.length + 1;
					if (this.state === "body" && until > at) this.handlers.data(buffer.subarray(at, until));
					if (found < 0) return Math.max(at, until);
					if (this.state === "body") this.handlers.end();
					at = found + this.delimiter.length;
					this.state = "boundary";
					break;
				}
				case "boundary": {
					// `--` closes the body; otherwise optional padding, then the line break.
					if (buffer.length - at < 2) return at;
					if (buffer[at] === 0x2d && buffer[at + 1] === 0x2d) {
						this.state = "done";
						break;
					}
					let end = at;
					while (buffer[end] === 0x20 || buffer[end] === 0x09) end++;
					if (end + 2 > buffer.length) return at;
					if (buffer[end] !== 0x0d || buffer[end + 1] !== 0x0a)
						throw new MultipartError("A multipart boundary is not followed by a line break.");
					at = end + 2;
					this.state = "head";
					break;
				}
				case "head": {
					// A part without header lines has its blank line right away.
					const empty = buffer.length - at >= 2 && buffer.subarray(at, at + 2).equals(CRLF);
					const found = empty ? at - 2 : buffer.indexOf(HEAD_END, at);
					if (found < 0) {
						if (buffer.length - at > MAX_HEAD_BYTES)
							throw new MultipartError("A multipart part's header is too long.");
						return at;
					}
					if (++this.parts > MAX_PARTS) throw new MultipartError("Too many multipart parts.");
					const text = empty ? "" : buffer.subarray(at, found).toString("utf8");
					const head = parseHead(text);
					if (!head) throw new MultipartError("A multipart part names no form field.");
					this.handlers.start(head);
					at = found + HEAD_END.length;
					this.state = "body";
					break;
				}
			}
		}
	}
}
