/**
 * The Bot API client (src/telegram/bot-api.ts) against a Bot API server on 127.0.0.1 that
 * records what it receives: JSON calls as JSON POSTs, Telegram's refusals as `TelegramError`s,
 * uploads as multipart bodies, a call that gets no answer ended by its timeout, and every call
 * ended at shutdown, in flight or later. Each holds over both transports: the HTTP/1.1 client
 * (the default) and `fetch` (kept when a proxy is set in the environment).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TelegramError } from "gramio";
import { createBotClient } from "../../src/telegram/bot-api.ts";

const TOKEN = "123456:test-token-for-the-client";

interface Received {
	method: string;
	contentType: string;
	json?: Record<string, unknown>;
	file?: { name: string; text: string };
}

const received: Received[] = [];
/** Requests the server holds without answering, released at the end. */
const held: (() => void)[] = [];
let server: ReturnType<typeof Bun.serve>;
let root: string;

beforeAll(() => {
	server = Bun.serve({
		hostname: "127.0.0.1",
		port: 0,
		async fetch(request) {
			const method = new URL(request.url).pathname.split("/").pop() ?? "";
			const contentType = request.headers.get("content-type") ?? "";
			const entry: Received = { method, contentType };
			if (contentType.startsWith("multipart/form-data")) {
				const form = await request.formData();
				const file = form.get("document");
				if (file instanceof File) entry.file = { name: file.name, text: await file.text() };
			} else entry.json = (await request.json()) as Record<string, unknown>;
			received.push(entry);
			if (method === "getChat")
				return new Promise<Response>((resolve) =>
					held.push(() => resolve(Response.json({ ok: true, result: {} }))),
				);
			if (method === "deleteMessage")
				return Response.json(
					{
						ok: false,
						error_code: 429,
						description: "Too Many Requests: retry after 7",
						parameters: { retry_after: 7 },
					},
					{ status: 429 },
				);
			return Response.json({ ok: true, result: { message_id: 42, echo: entry.json ?? null } });
		},
	});
	root = `http://127.0.0.1:${server.port}`;
});
afterAll(() => {
	for (const release of held.splice(0)) release();
	server.stop(true);
});

for (const viaFetch of [false, true])
	describe(`Bot API client (${viaFetch ? "fetch" : "HTTP/1.1 client"})`, () => {
		test("a call with JSON parameters is a JSON POST to /bot<token>/<method>; its result comes back", async () => {
			const client = createBotClient({ token: TOKEN, apiRoot: root, viaFetch });
			const sent = await client.api.sendMessage({
				chat_id: -100,
				text: "hello",
				message_thread_id: 5,
			});
			expect(sent).toMatchObject({
				message_id: 42,
				echo: { chat_id: -100, text: "hello", message_thread_id: 5 },
			});
			expect(received.at(-1)).toMatchObject({
				method: "sendMessage",
				contentType: "application/json",
			});
		});

		test("a refusal is a TelegramError with Telegram's code, description and retry_after", async () => {
			const client = createBotClient({ token: TOKEN, apiRoot: root, viaFetch });
			const error = await client.api.deleteMessage({ chat_id: -100, message_id: 1 }).then(
				() => null,
				(caught: unknown) => caught,
			);
			expect(error).toBeInstanceOf(TelegramError);
			expect(error).toMatchObject({
				code: 429,
				message: "Too Many Requests: retry after 7",
				payload: { retry_after: 7 },
			});
		});

		test("an upload goes as a multipart body with the file", async () => {
			const client = createBotClient({ token: TOKEN, apiRoot: root, viaFetch });
			const document = new File(["file body"], "note.txt", { type: "text/plain" });
			await client.api.sendDocument({ chat_id: -100, document, caption: "see" });
			expect(received.at(-1)).toMatchObject({
				method: "sendDocument",
				file: { name: "note.txt", text: "file body" },
			});
			expect(received.at(-1)?.contentType).toStartWith("multipart/form-data");
		});

		test("shutdown ends the calls in flight and refuses later ones without sending them", async () => {
			const client = createBotClient({ token: TOKEN, apiRoot: root, viaFetch });
			const before = received.filter((entry) => entry.method === "getChat").length;
			const pending = client.api.getChat({ chat_id: -100 }).then(
				() => null,
				(caught: unknown) => caught,
			);
			// The request reached the server (it holds it) before the client shuts down.
			while (received.filter((entry) => entry.method === "getChat").length === before)
				await Bun.sleep(5);
			client.abort();
			expect(((await pending) as Error | null)?.name).toBe("AbortError");
			const later = await client.api.sendMessage({ chat_id: -100, text: "too late" }).then(
				() => null,
				(caught: unknown) => caught,
			);
			expect((later as Error | null)?.name).toBe("AbortError");
			expect(received.some((entry) => entry.json?.text === "too late")).toBe(false);
		});
		test("a call Telegram does not answer ends with a timeout", async () => {
			const client = createBotClient({ token: TOKEN, apiRoot: root, viaFetch, callTimeoutMs: 200 });
			const error = await client.api.getChat({ chat_id: -100 }).then(
				() => null,
				(caught: unknown) => caught,
			);
			expect((error as Error | null)?.name).toBe("TimeoutError");
			for (const release of held.splice(0)) release();
		});
	});
