/**
 * Hostile text: control characters other than tab and newline in
 * any client text — message, caption, feedback, file name, page URL, WebSocket frames — are
 * refused with 400 (or an `error` frame), never 500, and nothing is stored. No user text reaches
 * the logs. Telegram updates carrying them are stored with the characters removed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser, nextCall, showsText } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

/** A marker in every hostile text: if it shows up in a log line, user text leaked. */
const MARK = "hostile-marker-7f3c";
const CONTROLS = { NUL: "\u0000", ESC: "\u001b", BEL: "\u0007", CR: "\r", DEL: "\u007f" };

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
const lines: string[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	const loaded = loadConfig(
		testEnv({ db, double: tg, configFile: { rateLimits: { message: 10_000, init: 10_000 } } }),
	);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	// Every line the service logs, at every level, kept for the leak check below.
	const log = createLogger({ level: "debug", json: true, write: (line) => lines.push(line) });
	service = await startService(loaded.config, { pglite: db.pglite, log });
}, 20_000);

afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
	// Whatever happened above, no user text was ever written to the logs.
	expect(lines.filter((line) => line.includes(MARK))).toEqual([]);
}, 20_000);

async function count(table: "messages" | "media" | "ticket_events" | "customers") {
	const [row] = await service.database.query<{ n: number }>(
		sql`select count(*)::int as n from ${sql.raw(table)}`,
	);
	return Number(row?.n);
}

const PNG = new Uint8Array([
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89,
]);

/**
 * A multipart upload written byte by byte, so the file name reaches the server exactly as given
 * (FormData would escape some characters).
 */
async function upload(session: string, fileName: string, caption?: string) {
	const boundary = "----hostile-boundary";
	const enc = new TextEncoder();
	const parts: Uint8Array[] = [
		enc.encode(
			`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: image/png\r\n\r\n`,
		),
		PNG,
		enc.encode("\r\n"),
	];
	if (caption !== undefined)
		parts.push(
			enc.encode(
				`--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\n${caption}\r\n`,
			),
		);
	parts.push(enc.encode(`--${boundary}--\r\n`));
	const response = await fetch(`${service.url}/api/chat/upload`, {
		method: "POST",
		headers: {
			"x-session-id": session,
			"content-type": `multipart/form-data; boundary=${boundary}`,
		},
		body: Buffer.concat(parts),
	});
	return { status: response.status, body: (await response.json()) as Envelope };
}

describe("over HTTP", () => {
	test.each(Object.entries(CONTROLS))(
		"%s in a message, its clientMessageId, is 400 INVALID_MESSAGE and stores nothing",
		async (_name, control) => {
			const { sessionId } = await initSession(service.url);
			const before = await count("messages");
			for (const body of [
				{ text: `${MARK} a${control}b` },
				{ text: "fine text", clientMessageId: `${MARK}${control}` },
			]) {
				const response = await api<Envelope>(service.url, "POST", "/api/chat/message", {
					session: sessionId,
					body,
				});
				expect(response.status).toBe(400);
				expect(response.body.error?.code).toBe("INVALID_MESSAGE");
				expect(JSON.stringify(response.body)).not.toContain(MARK);
			}
			expect(await count("messages")).toBe(before);
		},
	);

	test("tab and newline are ordinary text", async () => {
		const { sessionId } = await initSession(service.url);
		const response = await api<Envelope<{ messageId: string }>>(
			service.url,
			"POST",
			"/api/chat/message",
			{ session: sessionId, body: { text: "line one\n\tline two" } },
		);
		expect(response.status).toBe(201);
	});

	test("a caption or a file name with NUL, ESC or BEL is refused and nothing is stored", async () => {
		const { sessionId } = await initSession(service.url);
		const before = { messages: await count("messages"), media: await count("media") };
		for (const control of [CONTROLS.NUL, CONTROLS.ESC, CONTROLS.BEL]) {
			const caption = await upload(sessionId, "photo.png", `${MARK} look${control}here`);
			expect(caption.status).toBe(400);
			expect(caption.body.error?.code).toBe("INVALID_MESSAGE");
			const named = await upload(sessionId, `${MARK}${control}.png`);
			expect(named.status).toBe(400);
			expect(named.body.error?.code).toBe("INVALID_FILE_NAME");
		}
		expect({ messages: await count("messages"), media: await count("media") }).toEqual(before);
		// The same upload with clean text is accepted: the refusals were about the characters.
		const clean = await upload(sessionId, "photo.png", "look here");
		expect(clean.status).toBe(201);
	});

	test("feedback with control characters on close and rate is refused; the ticket stays as it was", async () => {
		const { sessionId } = await initSession(service.url);
		await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "to be closed" },
		});
		const events = await count("ticket_events");
		const close = await api<Envelope>(service.url, "POST", "/api/chat/close", {
			session: sessionId,
			body: { resolved: true, feedback: `${MARK}${CONTROLS.ESC}[31m red` },
		});
		expect(close.status).toBe(400);
		expect(close.body.error?.code).toBe("INVALID_MESSAGE");
		expect(await count("ticket_events")).toBe(events);
		const status = await api<Envelope<{ status: string }>>(service.url, "GET", "/api/chat/status", {
			session: sessionId,
		});
		expect(status.body.data.status).not.toBe("CLOSED");

		expect(
			(await api(service.url, "POST", "/api/chat/close", { session: sessionId, body: {} })).status,
		).toBe(200);
		const closedEvents = await count("ticket_events");
		const rate = await api<Envelope>(service.url, "POST", "/api/chat/rate", {
			session: sessionId,
			body: { rating: 4, feedback: `${MARK}${CONTROLS.NUL}` },
		});
		expect(rate.status).toBe(400);
		expect(rate.body.error?.code).toBe("INVALID_MESSAGE");
		expect(await count("ticket_events")).toBe(closedEvents);
		// Still rateable: the refused request spent nothing.
		const ok = await api(service.url, "POST", "/api/chat/rate", {
			session: sessionId,
			body: { rating: 4, feedback: "kind" },
		});
		expect(ok.status).toBe(200);
	});

	test("a pageUrl with control characters is refused at init and no session is made", async () => {
		const customers = await count("customers");
		for (const control of [CONTROLS.NUL, CONTROLS.ESC, CONTROLS.BEL]) {
			const response = await api<Envelope>(service.url, "POST", "/api/chat/init", {
				body: { pageUrl: `${service.url}/${MARK}${control}` },
				headers: { origin: service.url },
			});
			expect(response.status).toBe(400);
			expect(response.body.error?.code).toBe("INVALID_REQUEST");
			expect(response.headers.get("set-cookie")).toBeNull();
		}
		expect(await count("customers")).toBe(customers);
	});
});

describe("over the WebSocket", () => {
	test("message, close and rate frames with NUL, ESC or BEL get an error frame; the socket stays open and nothing is stored", async () => {
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		const before = { messages: await count("messages"), events: await count("ticket_events") };
		const frames = [
			{ type: "message", data: { text: `${MARK}${CONTROLS.NUL}` } },
			{ type: "message", data: { text: `${MARK}${CONTROLS.ESC}[2J` } },
			{ type: "message", data: { text: "ok", clientMessageId: `${MARK}${CONTROLS.BEL}` } },
			{ type: "close", data: { resolved: true, feedback: `${MARK}${CONTROLS.BEL}` } },
			{ type: "rate", data: { rating: 5, feedback: `${MARK}${CONTROLS.NUL}` } },
		];
		for (const frame of frames) socket.send(frame);
		for (const _ of frames) {
			const error = await socket.next("error");
			expect(error.data.code).toBe("INVALID_MESSAGE");
			expect(JSON.stringify(error.data)).not.toContain(MARK);
		}
		// The socket still works: a clean message is stored and echoed after the refusals.
		socket.send({ type: "message", data: { text: "clean after all" } });
		await socket.next((f) => f.type === "message" && f.data.text === "clean after all");
		expect(await count("messages")).toBe(before.messages + 1);
		// The clean message opened the conversation (its one event); the refused frames left none.
		expect(await count("ticket_events")).toBe(before.events + 1);
		socket.close();
	});
});

describe("from Telegram", () => {
	test("a DM with NUL, ESC and BEL is stored without them and reaches the topic", async () => {
		const user = newUser(`Nul${CONTROLS.NUL}ly`);
		const since = tg.calls.length;
		const sent = tg.customerSends(
			user,
			`${MARK} hello${CONTROLS.NUL} wor${CONTROLS.ESC}ld${CONTROLS.BEL}\n\tok`,
		);
		// The first message stands under the card, as stored: without the control characters.
		await nextCall(
			tg,
			since,
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.chat_id) === tg.groupId &&
				showsText(c, `${MARK} hello world\n\tok`),
		);
		const [row] = await service.database.query<{ text: string; display_name: string }>(
			sql`select m.text, c.display_name from messages m join customers c on c.id = m.customer_id
				where c.telegram_user_id = ${user.id} and m.author = 'user'`,
		);
		expect(row?.text).toBe(`${MARK} hello world\n\tok`);
		expect(row?.display_name).toBe("Nully");
		// The update was confirmed (its offset passed): nothing of it waits to be retried.
		await eventually(
			() => !tg.pendingUpdates.some((u) => u.message?.message_id === sent.message_id),
		);
	});
});
