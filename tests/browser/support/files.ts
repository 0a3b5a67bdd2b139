/**
 * Real files a visitor might attach, made in memory: a PNG (optionally full of noise so it
 * does not compress), a small PDF, and a Windows executable that must be refused.
 */
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
	let c = 0xffffffff;
	for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
	const out = new Uint8Array(12 + data.length);
	const view = new DataView(out.buffer);
	view.setUint32(0, data.length);
	out.set(new TextEncoder().encode(type), 4);
	out.set(data, 8);
	view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
	return out;
}

/** An RGB PNG of `width`×`height`: a colour gradient, or random noise when `noise`. */
export function png(width: number, height: number, options: { noise?: boolean } = {}): Buffer {
	const header = new Uint8Array(13);
	const view = new DataView(header.buffer);
	view.setUint32(0, width);
	view.setUint32(4, height);
	header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
	const raw = new Uint8Array(height * (1 + width * 3));
	for (let y = 0; y < height; y++) {
		const row = y * (1 + width * 3);
		raw[row] = 0;
		for (let x = 0; x < width; x++) {
			const at = row + 1 + x * 3;
			if (options.noise) {
				raw[at] = Math.floor(Math.random() * 256);
				raw[at + 1] = Math.floor(Math.random() * 256);
				raw[at + 2] = Math.floor(Math.random() * 256);
			} else {
				raw[at] = (x * 255) / width;
				raw[at + 1] = (y * 255) / height;
				raw[at + 2] = 160;
			}
		}
	}
	const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
	return Buffer.concat([
		signature,
		chunk("IHDR", header),
		chunk("IDAT", deflateSync(raw)),
		chunk("IEND", new Uint8Array()),
	]);
}

/** A one-page PDF. */
export function pdf(): Buffer {
	return Buffer.from(
		"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
			"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n" +
			"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n" +
			"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n",
	);
}

/** The start of a Windows executable: "MZ" and a PE header offset, padded. */
export function exe(): Buffer {
	const bytes = Buffer.alloc(512);
	bytes.write("MZ", 0, "latin1");
	bytes.writeUInt32LE(0x80, 0x3c);
	bytes.write("PE\0\0", 0x80, "latin1");
	return bytes;
}

/** A PDF of about `bytes` bytes: the one-page PDF followed by a comment of filler. */
export function bigPdf(bytes: number): Buffer {
	const head = pdf();
	return Buffer.concat([
		head,
		Buffer.from(`%${"x".repeat(Math.max(0, bytes - head.length - 2))}\n`),
	]);
}
