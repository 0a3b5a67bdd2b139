/**
 * The rest of the widget API over a real listener, with the Bot API double behind it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "./support/telegram-double.ts";
import { showsText } from "./support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "./support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
let botless: RunningService;

const PNG = new Uint8Array([
	0x89,
	0x50,
	0x4e,
	0x47,
	0x0d,
	0x0a,
	0x1a,
	0x0a,
	...new TextEncoder().encode("fake png body"),
]);

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	const configFile = { uploads: { imageMaxBytes: 200_000, documentMaxBytes: 300_000 } };
	service = await startTestService({ db, double: tg, configFile });
	botless = await startTestService({ db, configFile });
});
afterAll(async () => {
	await service?.stop();
	await botless?.stop();
	await tg?.close();
	await db?.drop();
});

/** A media URL as the service signs it, pointed at the test listener. */
const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, service.url);

async function customerWithTopic(text = "hello") {
	const { sessionId } = await initSession(service.url);
	await api(service.url, "POST", "/api/chat/message", { session: sessionId, body: { text } });
	const call = await tg.waitForCall(
		(c) => c.method === "sendMessage" && showsText(c, `[WEB] ${text}`),
	);
	return { sessionId, threadId: Number(call.params.message_thread_id) };
}

function upload(session: string, file: Blob, name: string, caption?: string) {
	const form = new FormData();
	form.append("file", file, name);
	if (caption !== undefined) form.append("caption", caption);
	return fetch(`${service.url}/api/chat/upload`, {
		method: "POST",
		headers: { "x-session-id": session },
		body: form,
	});
}

async function rowCount(table: "messages" | "media" | "outbox") {
	const [row] = await service.database.query<{ n: string }>(
		sql`select count(*) as n from ${sql.raw(table)}`,
	);
	return Number(row?.n);
}

describe("status and close", () => {
	test("status reports the ticket; close stores the rating and tells sockets and the topic", async () => {
		const { sessionId, threadId } = await customerWithTopic("need help");
		const status = await api<Envelope<Record<string, unknown>>>(
			service.url,
			"GET",
			"/api/chat/status",
			{ session: sessionId },
		);
		expect(status.status).toBe(200);
		expect(status.body.data).toMatchObject({
			status: "NEW",
			telegramLinked: false,
			telegramUsername: null,
		});
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		const closed = await api<Envelope<{ status: string; ticketId: string }>>(
			service.url,
			"POST",
			"/api/chat/close",
			{
				session: sessionId,
				body: { resolved: true, rating: 5, feedback: "Quick and kind" },
			},
		);
		expect(closed.status).toBe(200);
		expect(closed.body.data).toMatchObject({
			status: "CLOSED",
			ticketId: status.body.data.ticketId,
		});
		expect((await socket.next("status")).data).toEqual({ status: "CLOSED" });
		for (const text of [
			"The ticket is closed.",
			"The customer rated the support 5/5.",
			"Customer feedback: Quick and kind",
		]) {
			const notice = await tg.waitForCall(
				(c) => c.method === "sendMessage" && c.params.text === text,
			);
			expect(Number(notice.params.message_thread_id)).toBe(threadId);
		}
		const again = await api<Envelope>(service.url, "POST", "/api/chat/close", {
			session: sessionId,
			body: {},
		});
		expect(again.status).toBe(400);
		expect(again.body.error.code).toBe("TICKET_CLOSED");
		const events = await service.database.query<{ kind: string }>(
			sql`select e.kind from ticket_events e join web_sessions s on s.customer_id = e.customer_id where s.id = ${sessionId} order by e.id`,
		);
		// The first message opened the ticket; the close carried the rating and the feedback.
		expect(events.map((e) => e.kind)).toEqual(["OPENED", "CLOSED", "RATED", "FEEDBACK"]);
		socket.close();
	});

	test("a message to a closed ticket reopens it before the message reaches the topic", async () => {
		const { sessionId, threadId } = await customerWithTopic("first question");
		await api(service.url, "POST", "/api/chat/close", { session: sessionId, body: {} });
		await tg.waitForCall(
			(c) =>
				c.params.text === "The ticket is closed." &&
				Number(c.params.message_thread_id) === threadId,
		);
		const since = tg.calls.length;
		await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "one more thing" },
		});
		const notice = await tg.waitForCall(
			(c) => c.params.text === "The customer wrote again: the ticket is reopened.",
			{ since },
		);
		const message = await tg.waitForCall((c) => showsText(c, "[WEB] one more thing"), {
			since,
		});
		expect(notice.at).toBeLessThanOrEqual(message.at);
		const status = await api<Envelope<{ status: string }>>(service.url, "GET", "/api/chat/status", {
			session: sessionId,
		});
		expect(status.body.data.status).toBe("NEW");
	});

	test("an invalid rating is 400 and closes nothing", async () => {
		const { sessionId } = await initSession(service.url);
		const response = await api<Envelope>(service.url, "POST", "/api/chat/close", {
			session: sessionId,
			body: { rating: 9 },
		});
		expect(response.status).toBe(400);
		const status = await api<Envelope<{ status: string }>>(service.url, "GET", "/api/chat/status", {
			session: sessionId,
		});
		expect(status.body.data.status).toBe("NEW");
	});
});

describe("link-telegram, bot-info, bot-avatar", () => {
	test("link-telegram returns a single-use token and a t.me deep link; only its hash is stored", async () => {
		const { sessionId } = await initSession(service.url);
		const response = await api<Envelope<{ token: string; telegramUrl: string; expiresAt: string }>>(
			service.url,
			"POST",
			"/api/chat/link-telegram",
			{ session: sessionId },
		);
		expect(response.status).toBe(200);
		const { token, telegramUrl, expiresAt } = response.body.data;
		expect(token).toMatch(/^link_[0-9a-f]{32}$/);
		expect(telegramUrl).toBe(`https://t.me/${tg.botUser.username}?start=${token}`);
		const ttl = new Date(expiresAt).getTime() - Date.now();
		expect(ttl).toBeGreaterThan(59 * 60_000);
		expect(ttl).toBeLessThanOrEqual(60 * 60_000);
		const stored = await service.database.query<{ token_hash: string }>(
			sql`select token_hash from link_tokens`,
		);
		expect(stored.some((row) => row.token_hash.includes(token))).toBe(false);
		expect(stored).toHaveLength(1);
	});

	test("without a bot, link-telegram is 503 and bot-info falls back", async () => {
		const { sessionId } = await initSession(botless.url);
		const link = await api<Envelope>(botless.url, "POST", "/api/chat/link-telegram", {
			session: sessionId,
		});
		expect(link.status).toBe(503);
		expect(link.body.error.code).toBe("TELEGRAM_UNAVAILABLE");
		const info = await api<Envelope<Record<string, unknown>>>(
			botless.url,
			"GET",
			"/api/chat/bot-info",
		);
		expect(info.body.data).toMatchObject({ name: "Support", username: null });
		const avatar = await fetch(`${botless.url}/api/chat/bot-avatar`);
		expect(avatar.headers.get("content-type")).toContain("image/svg+xml");
		expect(await avatar.text()).toContain("<svg");
	});

	test("bot-info comes from getMe; bot-avatar serves the bot's photo", async () => {
		const info = await api<Envelope<Record<string, unknown>>>(
			service.url,
			"GET",
			"/api/chat/bot-info",
		);
		expect(info.body.data).toMatchObject({
			name: tg.botUser.first_name,
			username: tg.botUser.username,
			avatarUrl: expect.stringMatching(/\/api\/chat\/bot-avatar$/),
		});
		const photo = tg.registerFile("photo", {
			bytes: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3, 4, 5]),
		});
		tg.setMethod("getUserProfilePhotos", () => ({ total_count: 1, photos: [photo.photoSizes] }));
		const avatar = await fetch(`${service.url}/api/chat/bot-avatar`);
		expect(avatar.status).toBe(200);
		expect([...new Uint8Array(await avatar.arrayBuffer())]).toEqual([...photo.bytes]);
	});
});

describe("uploads and the media proxy", () => {
	test("an image goes to the topic as a photo with [WEB] 📎 caption and is served by a signed URL", async () => {
		const { sessionId, threadId } = await customerWithTopic("look at this");
		const response = await upload(
			sessionId,
			new Blob([PNG]),
			"../../etc/screen shot.png",
			"the error",
		);
		expect(response.status).toBe(201);
		const body = (await response.json()) as Envelope<Record<string, unknown>>;
		expect(body.data).toMatchObject({
			type: "image",
			fileName: "screen shot.png",
			fileSize: PNG.length,
			mimeType: "image/png",
		});
		const sent = await tg.waitForCall((c) => c.method === "sendPhoto" && c.ok);
		expect(sent.params.message_thread_id).toBe(threadId);
		// Multipart form fields carry line breaks as CRLF, as browsers and Bun encode them.
		expect(String(sent.params.caption).replace(/\r\n/g, "\n")).toBe(
			"[WEB] 📎 screen shot.png\nthe error",
		);
		const history = await api<Envelope<{ messages: { imageUrl?: string; text: string }[] }>>(
			service.url,
			"GET",
			"/api/chat/history?limit=1",
			{ session: sessionId },
		);
		const [latest] = history.body.data.messages;
		expect(latest?.text).toBe("the error");
		expect(latest?.imageUrl).toMatch(/\/api\/media\/[0-9a-f-]{36}\?exp=\d+&sig=/);
		const media = await fetch(local(latest?.imageUrl ?? ""));
		expect(media.status).toBe(200);
		expect(media.headers.get("content-type")).toBe("image/png");
		expect(media.headers.get("content-length")).toBe(String(PNG.length));
		expect(new Uint8Array(await media.arrayBuffer())).toEqual(PNG);
		const ranged = await fetch(local(latest?.imageUrl ?? ""), { headers: { range: "bytes=0-3" } });
		expect(ranged.status).toBe(206);
		expect(ranged.headers.get("content-range")).toBe(`bytes 0-3/${PNG.length}`);
		expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(PNG.subarray(0, 4));
		// Change the signature's first character to a different one.
		const tampered = local(latest?.imageUrl ?? "").replace(
			/sig=(.)/,
			(_, c: string) => `sig=${c === "A" ? "B" : "A"}`,
		);
		expect((await fetch(tampered)).status).toBe(403);
		// Another media id: its first character changed (to a different one, as above).
		const otherId = local(latest?.imageUrl ?? "").replace(
			/media\/([0-9a-f])/,
			(_, c: string) => `media/${c === "0" ? "1" : "0"}`,
		);
		expect((await fetch(otherId)).status).toBe(403);
		const expired = local(latest?.imageUrl ?? "").replace(/exp=\d+/, "exp=1000");
		expect((await fetch(expired)).status).toBe(403);
	});

	test("type is judged by content; size limits per type; nothing stored on refusal", async () => {
		const { sessionId } = await initSession(service.url);
		const before = { messages: await rowCount("messages"), media: await rowCount("media") };
		const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03]);
		let response = await upload(sessionId, new Blob([exe], { type: "image/png" }), "cat.png");
		expect(response.status).toBe(415);
		expect(((await response.json()) as Envelope).error.code).toBe("INVALID_FILE_TYPE");
		const bigImage = new Uint8Array(250_000);
		bigImage.set(PNG);
		response = await upload(sessionId, new Blob([bigImage]), "big.png");
		expect(response.status).toBe(413);
		expect(((await response.json()) as Envelope).error.code).toBe("FILE_TOO_LARGE");
		response = await upload(sessionId, new Blob([new Uint8Array(400_000)]), "huge.bin");
		expect(response.status).toBe(413);
		response = await fetch(`${service.url}/api/chat/upload`, {
			method: "POST",
			headers: { "x-session-id": sessionId },
			body: new FormData(),
		});
		expect(((await response.json()) as Envelope).error.code).toBe("NO_FILE");
		expect({ messages: await rowCount("messages"), media: await rowCount("media") }).toEqual(
			before,
		);
	});

	test("a PDF is sent as a document; another customer cannot see it in their history", async () => {
		const { sessionId } = await customerWithTopic("invoice attached");
		const pdf = new TextEncoder().encode("%PDF-1.7\n% test document\n");
		const response = await upload(sessionId, new Blob([pdf]), "invoice.pdf");
		expect(response.status).toBe(201);
		const sent = await tg.waitForCall((c) => c.method === "sendDocument" && c.ok);
		expect(sent.params.caption).toBe("[WEB] 📎 invoice.pdf");
		const stranger = await initSession(service.url);
		const theirs = await api<Envelope<{ messages: unknown[] }>>(
			service.url,
			"GET",
			"/api/chat/history",
			{ session: stranger.sessionId },
		);
		expect(theirs.body.data.messages).toEqual([]);
		const mine = await api<Envelope<{ messages: { fileUrl?: string; fileName?: string }[] }>>(
			service.url,
			"GET",
			"/api/chat/history?limit=1",
			{ session: sessionId },
		);
		expect(mine.body.data.messages[0]?.fileName).toBe("invoice.pdf");
		const file = await fetch(local(mine.body.data.messages[0]?.fileUrl ?? ""));
		expect(file.headers.get("content-disposition")).toContain('attachment; filename="invoice.pdf"');
	});
});

describe("typing, widget errors, ask-support", () => {
	test("typing true shows typing in the topic, at most once per 5 s", async () => {
		const { sessionId, threadId } = await customerWithTopic("typing soon");
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		const since = tg.calls.length;
		socket.send({ type: "typing", isTyping: true });
		socket.send({ type: "typing", isTyping: true });
		socket.send({ type: "typing", isTyping: false });
		const action = await tg.waitForCall("sendChatAction", { since });
		expect(action.params).toMatchObject({
			chat_id: tg.groupId,
			message_thread_id: threadId,
			action: "typing",
		});
		// A message sent after the typing frames is handled after them (one socket's frames run in
		// order) and reaches the topic only through a transaction and the outbox: any chat action
		// those frames caused was answered before it.
		socket.send({ type: "message", text: "typed it" });
		await tg.waitForCall((c) => c.ok && showsText(c, "[WEB] typed it"), { since });
		expect(tg.calls.slice(since).filter((c) => c.method === "sendChatAction")).toHaveLength(1);
		socket.close();
	});

	test("widget errors are counted (at most 10 used); bad bodies are 400", async () => {
		const ok = await api<Envelope<{ processed: number }>>(
			service.url,
			"POST",
			"/api/widget/errors",
			{
				// Reports come from the widget on an allowed site (localhost, outside production).
				headers: { origin: "http://localhost:5173" },
				body: { errors: Array.from({ length: 12 }, (_, i) => ({ message: `boom ${i}` })) },
			},
		);
		expect(ok.body.data.processed).toBe(10);
		const bad = await api<Envelope>(service.url, "POST", "/api/widget/errors", {
			headers: { origin: "http://localhost:5173" },
			body: { errors: "nope" },
		});
		expect(bad.status).toBe(400);
	});

	test("ask-support redirects to the bot with a stored context; robots get 403", async () => {
		const response = await fetch(
			`${service.url}/ask-support?url=${encodeURIComponent("http://localhost:5173/pricing")}`,
			{
				redirect: "manual",
				headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" },
			},
		);
		expect(response.status).toBe(302);
		const location = response.headers.get("location") ?? "";
		const match = new RegExp(
			`^https://t\\.me/${tg.botUser.username}\\?start=(c[A-Za-z0-9]{16})$`,
		).exec(location);
		expect(match).not.toBeNull();
		const [context] = await service.database.query<{ page_url: string }>(
			sql`select page_url from entry_contexts where id = ${match?.[1] ?? ""}`,
		);
		expect(context?.page_url).toBe("http://localhost:5173/pricing");
		const robot = await fetch(`${service.url}/ask-support`, {
			redirect: "manual",
			headers: { "user-agent": "Googlebot/2.1" },
		});
		expect(robot.status).toBe(403);
	});
});
