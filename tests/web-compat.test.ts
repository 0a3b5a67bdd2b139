/**
 * The existing widget keeps working against our API: `channel_linked` carries
 * the Telegram name as a string, a history cursor that is not a message of this chat
 * answers an empty page, and uploads accept what visitors actually send, judged by
 * content, with images a browser cannot show served as attachments. Real service, real sockets,
 * the Bot API double, real files built from their magic bytes.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "./support/telegram-customers.ts";
import type { ApiCall } from "./support/telegram-double.ts";
import { newUser, nextCall, showsText, useTelegramFlow } from "./support/telegram-flow.ts";
import { api, type Envelope, initSession } from "./support/web-client.ts";

const flow = useTelegramFlow({ outbox: { groupWindow: "1s" } });
const { webCustomer, linkConfirmed } = telegramCustomers(flow);

// ---------------------------------------------------------------- channel_linked

describe("channel_linked", () => {
	test("data.telegram is the username without @", async () => {
		const web = await webCustomer("Linking with a username");
		const frame = await linkConfirmed(web, newUser("Nadia", { username: "nadia_s" }));
		expect(frame.data).toEqual({ telegram: "nadia_s" });
		web.socket.close();
	});

	test("data.telegram is the first name when there is no username", async () => {
		const web = await webCustomer("Linking without a username");
		const frame = await linkConfirmed(web, newUser("Oleg", { last_name: "Petrov" }));
		expect(frame.data).toEqual({ telegram: "Oleg" });
		expect(typeof frame.data.telegram).toBe("string");
		web.socket.close();
	});
});

// ---------------------------------------------------------------- history cursors

type Page = Envelope<{
	messages: { id: string; text: string }[];
	hasMore: boolean;
	oldestId: string | null;
}>;

function history(sessionId: string, query: string) {
	return api<Page>(flow().service.url, "GET", `/api/chat/history?${query}`, {
		session: sessionId,
	});
}

describe("history cursors", () => {
	test("an id that is not a message of this chat answers 200 with an empty page; a bad limit is still 400", async () => {
		const { service } = flow();
		const { sessionId } = await initSession(service.url);
		const ids: string[] = [];
		for (const text of ["one", "two", "three"]) {
			const sent = await api<Envelope<{ messageId: string }>>(
				service.url,
				"POST",
				"/api/chat/message",
				{ session: sessionId, body: { text, clientMessageId: `c-${text}` } },
			);
			ids.push(sent.body.data.messageId);
		}
		const other = await initSession(service.url);
		const theirs = await api<Envelope<{ messageId: string }>>(
			service.url,
			"POST",
			"/api/chat/message",
			{ session: other.sessionId, body: { text: "someone else's words" } },
		);
		const empty = { messages: [], hasMore: false, oldestId: null };
		for (const cursor of [
			crypto.randomUUID(),
			"tmp-123",
			"tmp_1718000000000_ab12",
			"c-one",
			"anything at all",
			theirs.body.data.messageId,
		]) {
			for (const direction of ["before", "after"]) {
				const page = await history(sessionId, `${direction}=${encodeURIComponent(cursor)}`);
				expect(page.status, `${direction}=${cursor}`).toBe(200);
				expect(page.body as unknown).toEqual({ success: true, data: empty });
			}
		}
		// Real cursors still page.
		const after = await history(sessionId, `after=${ids[0]}`);
		expect(after.body.data.messages.map((m) => m.text)).toEqual(["two", "three"]);
		const before = await history(sessionId, `before=${ids[2]}&limit=1`);
		expect(before.body.data).toMatchObject({ hasMore: true, oldestId: ids[1] });
		for (const query of ["limit=abc", `after=tmp-1&limit=0`, "limit=101"]) {
			const bad = await history(sessionId, query);
			expect(bad.status).toBe(400);
			expect(bad.body.error.code).toBe("INVALID_PARAMS");
		}
	});
});

// ---------------------------------------------------------------- uploads

const enc = (text: string) => new TextEncoder().encode(text);
const bytes = (...parts: (number[] | Uint8Array)[]) =>
	new Uint8Array(parts.flatMap((part) => Array.from(part)));
const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

/** A real ZIP archive with stored (uncompressed) entries. */
function zip(entries: Record<string, string>): Uint8Array {
	const locals: number[][] = [];
	const centrals: number[][] = [];
	let offset = 0;
	for (const [name, text] of Object.entries(entries)) {
		const file = enc(name);
		const data = enc(text);
		const crc = Bun.hash.crc32(data);
		const common = [
			...u16(20),
			...u16(0),
			...u16(0),
			...u16(0),
			...u16(0x21),
			...u32(crc),
			...u32(data.length),
			...u32(data.length),
			...u16(file.length),
			...u16(0),
		];
		const local = [...u32(0x04034b50), ...common, ...file, ...data];
		centrals.push([
			...u32(0x02014b50),
			...u16(20),
			...common,
			...u16(0),
			...u16(0),
			...u16(0),
			...u32(0),
			...u32(offset),
			...file,
		]);
		locals.push(local);
		offset += local.length;
	}
	const directory = centrals.flat();
	const count = Object.keys(entries).length;
	return bytes(
		locals.flat(),
		directory,
		[...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(count), ...u16(count)],
		[...u32(directory.length), ...u32(offset), ...u16(0)],
	);
}

const DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const docx = zip({
	"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
	"word/document.xml": `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Invoice</w:t></w:r></w:p></w:body></w:document>`,
});

/** A 1×1 24-bit bitmap: file header, BITMAPINFOHEADER, one padded pixel row. */
const bmp = bytes(
	enc("BM"),
	u32(58),
	u32(0),
	u32(54),
	u32(40),
	u32(1),
	u32(1),
	u16(1),
	u16(24),
	u32(0),
	u32(4),
	u32(2835),
	u32(2835),
	u32(0),
	u32(0),
	[0x00, 0x00, 0xff, 0x00],
);
/** The start of an iPhone photo: an ISO-BMFF `ftyp` box with the `heic` brand. */
const heic = bytes(
	[0, 0, 0, 24],
	enc("ftypheic"),
	u32(0),
	enc("mif1heic"),
	[0, 0, 0, 8],
	enc("meta"),
);
const heif = bytes(
	[0, 0, 0, 24],
	enc("ftypmif1"),
	u32(0),
	enc("mif1heic"),
	[0, 0, 0, 8],
	enc("meta"),
);

interface Accepted {
	name: string;
	content: Uint8Array;
	mimeType: string;
	fileName: string;
}

const ACCEPTED: Accepted[] = [
	{ name: "IMG_0042.HEIC", content: heic, mimeType: "image/heic", fileName: "IMG_0042.heic" },
	{ name: "photo.heif", content: heif, mimeType: "image/heif", fileName: "photo.heif" },
	{ name: "scan.bmp", content: bmp, mimeType: "image/bmp", fileName: "scan.bmp" },
	{
		name: "letter.rtf",
		content: enc("{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Arial;}} Hello}"),
		mimeType: "application/rtf",
		fileName: "letter.rtf",
	},
	{
		name: "logs.zip",
		content: zip({ "app.log": "started\nfailed\n" }),
		mimeType: "application/zip",
		fileName: "logs.zip",
	},
	{
		name: "archive.rar",
		content: bytes(enc("Rar!"), [0x1a, 0x07, 0x01, 0x00], [0x33, 0x92, 0xb5, 0xe5, 0x0a, 0x01]),
		mimeType: "application/vnd.rar",
		fileName: "archive.rar",
	},
	{
		name: "backup.7z",
		content: bytes([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04], new Uint8Array(24)),
		mimeType: "application/x-7z-compressed",
		fileName: "backup.7z",
	},
	// Judged by content: the name says .zip, the archive is a Word document.
	{ name: "invoice.zip", content: docx, mimeType: DOCX_MIME, fileName: "invoice.docx" },
	{ name: "contract.docx", content: docx, mimeType: DOCX_MIME, fileName: "contract.docx" },
	{
		name: "notes.txt",
		content: enc("BMW 320d, VIN WBA…\nsecond line\n"),
		mimeType: "text/plain",
		fileName: "notes.txt",
	},
];

const REFUSED: { name: string; content: Uint8Array }[] = [
	{ name: "tool.elf", content: bytes([0x7f], enc("ELF"), [2, 1, 1, 0], new Uint8Array(56)) },
	{ name: "photo.heic", content: bytes([0x7f], enc("ELF"), [2, 1, 1, 0], new Uint8Array(56)) },
	{
		name: "page.html",
		content: enc("<!doctype html><html><body><script>alert(1)</script></body></html>"),
	},
	{
		name: "logo.svg",
		content: enc('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
	},
	{ name: "setup.exe", content: bytes(enc("MZ"), [0x90, 0, 3, 0, 0, 0, 4, 0]) },
	{ name: "app.apk", content: zip({ "classes.dex": "dex\n035" }) },
];

function upload(sessionId: string, name: string, content: Uint8Array, declared = "") {
	const form = new FormData();
	form.append("file", new Blob([content], { type: declared }), name);
	return fetch(`${flow().service.url}/api/chat/upload`, {
		method: "POST",
		headers: { "x-session-id": sessionId },
		body: form,
	});
}

/** What a customer has stored and owes to Telegram. */
async function countsOf(sessionId: string) {
	const [row] = await flow().service.database.query<{
		media: string;
		messages: string;
		outbox: string;
	}>(
		sql`select (select count(*) from media m where m.customer_id = s.customer_id) as media,
			(select count(*) from messages m where m.customer_id = s.customer_id) as messages,
			(select count(*) from outbox o where o.customer_id = s.customer_id) as outbox
			from web_sessions s where s.id = ${sessionId}`,
	);
	return {
		media: Number(row?.media),
		messages: Number(row?.messages),
		outbox: Number(row?.outbox),
	};
}

/** A signed media URL as the service writes it, pointed at the test listener. */
const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, flow().service.url);

const sentFile = (call: ApiCall, topicId: number, fileName: string) =>
	(call.method === "sendDocument" || call.method === "sendPhoto") &&
	call.ok &&
	Number(call.params.message_thread_id) === topicId &&
	showsText(call, `[WEB] 📎 ${fileName}`);

describe("uploads judged by content", () => {
	test("HEIC/HEIF, BMP, RTF, ZIP, RAR, 7z and Office files are accepted as documents, sent as documents and served as attachments", async () => {
		const { tg, service } = flow();
		const web = await webCustomer("Here are my files");
		for (const file of ACCEPTED) {
			const since = tg.calls.length;
			// The declared type is ignored either way.
			const response = await upload(web.sessionId, file.name, file.content, "image/png");
			const body = (await response.json()) as Envelope<Record<string, unknown>>;
			expect(response.status, `${file.name}: ${JSON.stringify(body)}`).toBe(201);
			expect(body.data).toMatchObject({
				type: "document",
				mimeType: file.mimeType,
				fileName: file.fileName,
				fileSize: file.content.length,
			});
			const echo = await web.socket.next(
				(f) => f.type === "message" && f.data.id === body.data.messageId,
			);
			expect(echo.data.imageUrl).toBeUndefined();
			expect(echo.data.fileName).toBe(file.fileName);
			const served = await fetch(local(String(echo.data.fileUrl)));
			expect(served.status).toBe(200);
			// Not shown inline, so not handed to the browser as itself either (the type is in the
			// upload's answer and the message; the download keeps the name).
			expect(served.headers.get("content-type")).toBe("application/octet-stream");
			expect(served.headers.get("content-disposition")).toStartWith(
				`attachment; filename="${file.fileName}"`,
			);
			expect(new Uint8Array(await served.arrayBuffer())).toEqual(new Uint8Array(file.content));
			const copy = await nextCall(tg, since, (c) => sentFile(c, web.topicId, file.fileName));
			expect(copy.method).toBe("sendDocument");
		}
		expect(
			tg.calls.some(
				(c) => c.method === "sendPhoto" && Number(c.params.message_thread_id) === web.topicId,
			),
		).toBe(false);
		const [stored] = await service.database.query<{ n: string }>(
			sql`select count(*) as n from media where customer_id = ${web.customerId} and kind = 'document'`,
		);
		expect(Number(stored?.n)).toBe(ACCEPTED.length);
		web.socket.close();
	}, 30_000);

	test("a PNG is still an image: shown inline and sent as a photo", async () => {
		const { tg } = flow();
		const web = await webCustomer("A screenshot");
		const header = bytes(enc("IHDR"), [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
		const png = bytes(
			[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
			[0, 0, 0, 13],
			header,
			u32(Bun.hash.crc32(header)).reverse(),
		);
		const since = tg.calls.length;
		const response = await upload(web.sessionId, "screen.png", png);
		const body = (await response.json()) as Envelope<Record<string, unknown>>;
		expect(response.status).toBe(201);
		expect(body.data).toMatchObject({ type: "image", mimeType: "image/png" });
		const echo = await web.socket.next(
			(f) => f.type === "message" && f.data.id === body.data.messageId,
		);
		const served = await fetch(local(String(echo.data.imageUrl)));
		expect(served.headers.get("content-disposition")).toStartWith("inline");
		const copy = await nextCall(tg, since, (c) => sentFile(c, web.topicId, "screen.png"));
		expect(copy.method).toBe("sendPhoto");
		web.socket.close();
	});

	test("a file without a caption is stored with the text 📎 <name>, which history gives back; its topic copy names it once", async () => {
		const { tg } = flow();
		const web = await webCustomer("A file without words");
		const since = tg.calls.length;
		const response = await upload(web.sessionId, "receipt.pdf", enc("%PDF-1.4\n%%EOF\n"));
		const body = (await response.json()) as Envelope<{ messageId: string }>;
		expect(response.status).toBe(201);
		const echo = await web.socket.next(
			(f) => f.type === "message" && f.data.id === body.data.messageId,
		);
		expect(echo.data.text).toBe("📎 receipt.pdf");
		// After a reload, the older widget reads the name from history's text.
		const page = await history(web.sessionId, "limit=50");
		const stored = page.body.data.messages.find((m) => m.id === body.data.messageId);
		expect(stored?.text).toBe("📎 receipt.pdf");
		const copy = await nextCall(tg, since, (c) => sentFile(c, web.topicId, "receipt.pdf"));
		expect(copy.params.caption).toBe("[WEB] 📎 receipt.pdf");
		web.socket.close();
	});

	test("executables, HTML, SVG and APKs are refused 415 with nothing stored or sent", async () => {
		const { tg, service } = flow();
		const { sessionId } = await initSession(service.url);
		const since = tg.calls.length;
		// Whatever type the client declares (within the upload budget of 10 a minute).
		const declared = ["", "image/jpeg", "application/pdf", "text/plain", "image/heic", ""];
		for (const [i, file] of REFUSED.entries()) {
			const response = await upload(sessionId, file.name, file.content, declared[i]);
			const body = (await response.json()) as Envelope;
			expect(response.status, file.name).toBe(415);
			expect(body).toMatchObject({ success: false, error: { code: "INVALID_FILE_TYPE" } });
		}
		// Nothing stored and nothing owed to Telegram (no message, no topic, no file sent).
		expect(await countsOf(sessionId)).toEqual({ media: 0, messages: 0, outbox: 0 });
		expect(tg.calls.slice(since).some((c) => c.method === "sendDocument")).toBe(false);
	});
});
