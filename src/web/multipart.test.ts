import { describe, expect, test } from "bun:test";
import { boundaryOf, MultipartError, MultipartParser, type PartHead } from "./multipart.ts";

interface Part {
	head: PartHead;
	bytes: Buffer;
}

/** Parses `body` fed in chunks of the given sizes (cycled); the parts it yields. */
function parse(body: Uint8Array, boundary: string, sizes: number[]): Part[] {
	const parts: Part[] = [];
	let data: Buffer[] = [];
	const parser = new MultipartParser(boundary, {
		start: (head) => {
			parts.push({ head, bytes: Buffer.alloc(0) });
			data = [];
		},
		data: (bytes) => {
			data.push(Buffer.from(bytes));
		},
		end: () => {
			(parts.at(-1) as Part).bytes = Buffer.concat(data);
		},
	});
	for (let at = 0, i = 0; at < body.length; i++) {
		const size = sizes[i % sizes.length] as number;
		parser.write(body.subarray(at, at + size));
		at += size;
	}
	parser.finish();
	return parts;
}

const file = Buffer.alloc(70_000);
for (let i = 0; i < file.length; i++) file[i] = (i * 7919) % 256;
// Bytes that look like the start of a boundary line inside the file.
file.set(Buffer.from("\r\n--bound"), 1000);

async function formBody() {
	const form = new FormData();
	form.append("file", new File([file], 'отчёт "q".pdf', { type: "application/pdf" }));
	form.append("caption", "line one\nline two");
	const request = new Request("http://x/", { method: "POST", body: form });
	const type = request.headers.get("content-type") ?? "";
	return { body: new Uint8Array(await request.arrayBuffer()), boundary: boundaryOf(type) ?? "" };
}

describe("multipart, read as it streams", () => {
	test("the same parts whatever the chunking, even a byte at a time", async () => {
		const { body, boundary } = await formBody();
		expect(boundary).not.toBe("");
		for (const sizes of [[body.length], [1], [3, 5, 64], [4096], [65_536, 7], [17, 16_500]]) {
			const parts = parse(body, boundary, sizes);
			expect(parts.map((p) => p.head.name)).toEqual(["file", "caption"]);
			expect(parts[0]?.head.fileName).toBe("отчёт %22q%22.pdf");
			expect(parts[0]?.bytes.equals(file)).toBe(true);
			expect(parts[1]?.bytes.toString()).toBe("line one\r\nline two");
		}
	});

	test("preamble and epilogue are skipped; a part without a filename is a field", () => {
		const body = Buffer.from(
			'preamble\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nA\r\n--b--\r\nepilogue',
		);
		const parts = parse(body, "b", [2]);
		expect(parts).toHaveLength(1);
		expect(parts[0]?.head).toEqual({ name: "a" });
		expect(parts[0]?.bytes.toString()).toBe("A");
	});

	test("a body cut short, a boundary without a line break, a nameless part are refused", () => {
		const cut = Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nA');
		expect(() => parse(cut, "b", [5])).toThrow(MultipartError);
		expect(() => parse(Buffer.from("--bX"), "b", [1])).toThrow(MultipartError);
		const nameless = Buffer.from("--b\r\nContent-Type: text/plain\r\n\r\nA\r\n--b--");
		expect(() => parse(nameless, "b", [3])).toThrow(MultipartError);
	});

	test("the boundary comes from the content type, quoted or not", () => {
		expect(boundaryOf('multipart/form-data; boundary="a;b"')).toBe("a;b");
		expect(boundaryOf("Multipart/Form-Data;boundary=xyz")).toBe("xyz");
		expect(boundaryOf("application/json; boundary=xyz")).toBeUndefined();
		expect(boundaryOf(`multipart/form-data; boundary=${"x".repeat(71)}`)).toBeUndefined();
	});
});
