/**
 * The Bot API client (src/telegram/bot-api.ts) against a Bot API server on 127.0.0.1 that
 * records what it receives: JSON calls as JSON POSTs, formatted text with its entities,
 * Telegram's refusals as `TelegramError`s, uploads as multipart bodies, a call that gets no
 * answer ended by its timeout, every call ended at shutdown (in flight or later), and a proxy
 * named in the environment carrying the calls.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bold, format, TelegramError } from "gramio";
import { createBotClient, neverReachedLimiter } from "../../src/telegram/bot-api.ts";

const TOKEN = "123456:test-token-for-the-client";

interface Received {
	path: string;
	method: string;
	contentType: string;
	json?: Record<string, unknown>;
	/** An upload's other fields, as sent (objects as JSON text). */
	fields?: Record<string, string>;
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
			const path = new URL(request.url).pathname;
			const method = path.split("/").pop() ?? "";
			const contentType = request.headers.get("content-type") ?? "";
			const entry: Received = { path, method, contentType };
			if (contentType.startsWith("multipart/form-data")) {
				entry.fields = {};
				for (const [name, value] of await request.formData())
					if (typeof value === "string") entry.fields[name] = value;
					else entry.file = { name: value.name, text: await value.text() };
			} else entry.json = (await request.json()) as Record<string, unknown>;
			received.push(entry);
			if (method === "getChat" || entry.fields?.caption === "held")
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

describe("Bot API client", () => {
	test("a call with JSON parameters is a JSON POST to /bot<token>/<method>; its result comes back", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
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
			path: `/bot${TOKEN}/sendMessage`,
			contentType: "application/json",
		});
	});

	test("text built with format goes as plain text with its entities", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
		await client.api.sendMessage({ chat_id: -100, text: format`Status: ${bold("open")}` });
		expect(received.at(-1)?.json).toMatchObject({
			text: "Status: open",
			entities: [{ type: "bold", offset: 8, length: 4 }],
		});
	});

	test("a refusal is a TelegramError with Telegram's code, description and retry_after", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
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
		const client = createBotClient({ token: TOKEN, apiRoot: root });
		const document = new File(["file body"], "note.txt", { type: "text/plain" });
		await client.api.sendDocument({ chat_id: -100, document, caption: "see" });
		expect(received.at(-1)).toMatchObject({
			method: "sendDocument",
			file: { name: "note.txt", text: "file body" },
		});
		expect(received.at(-1)?.contentType).toStartWith("multipart/form-data");
		expect(received.at(-1)?.fields).toMatchObject({ chat_id: "-100", caption: "see" });
	});

	test("an upload's formatted caption goes with its entities; a file already on Telegram goes as JSON", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
		const document = new File(["x"], "a.txt", { type: "text/plain" });
		await client.api.sendDocument({ chat_id: -100, document, caption: format`${bold("a")}` });
		expect(JSON.parse(received.at(-1)?.fields?.caption_entities ?? "null")).toEqual([
			{ type: "bold", offset: 0, length: 1 },
		]);
		await client.api.sendDocument({ chat_id: -100, document: "file-id-on-telegram" });
		expect(received.at(-1)).toMatchObject({
			contentType: "application/json",
			json: { document: "file-id-on-telegram" },
		});
	});

	test("shutdown ends the calls in flight and refuses later ones without sending them", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
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
		const client = createBotClient({ token: TOKEN, apiRoot: root, callTimeoutMs: 200 });
		const error = await client.api.getChat({ chat_id: -100 }).then(
			() => null,
			(caught: unknown) => caught,
		);
		expect((error as Error | null)?.name).toBe("TimeoutError");
		for (const release of held.splice(0)) release();
	});

	test("an upload Telegram does not answer ends with a timeout too", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root, callTimeoutMs: 200 });
		const document = new File(["x"], "slow.txt", { type: "text/plain" });
		const error = await client.api.sendDocument({ chat_id: -100, document, caption: "held" }).then(
			() => null,
			(caught: unknown) => caught,
		);
		expect((error as Error | null)?.name).toBe("TimeoutError");
		for (const release of held.splice(0)) release();
	});

	test("a refused connection is an error the flood budget knows was never sent", async () => {
		const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
		const gone = `http://127.0.0.1:${closed.port}`;
		closed.stop(true);
		const client = createBotClient({ token: TOKEN, apiRoot: gone });
		const error = await client.api.getMe().then(
			() => null,
			(caught: unknown) => caught,
		);
		expect(error).not.toBeNull();
		expect(error).not.toBeInstanceOf(TelegramError);
		expect(neverReachedLimiter(error)).toBe(true);
	});

	test("the bare call answers with the result, and a refusal with its retry_after", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
		const signal = AbortSignal.timeout(5_000);
		expect(await client.call("getMe", undefined, signal)).toMatchObject({ message_id: 42 });
		const error = await client.call("deleteMessage", { chat_id: -100, message_id: 1 }, signal).then(
			() => null,
			(caught: unknown) => caught,
		);
		expect(error).toMatchObject({ code: 429, payload: { retry_after: 7 } });
	});
});

describe("Bot API client behind a proxy", () => {
	/** A forward proxy that answers for the Bot API itself, recording the URLs it was asked for. */
	const proxied: string[] = [];
	let proxy: ReturnType<typeof Bun.serve>;
	const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
	beforeAll(() => {
		proxy = Bun.serve({
			hostname: "127.0.0.1",
			port: 0,
			fetch(request) {
				proxied.push(request.url);
				return Response.json({ ok: true, result: { via: "proxy" } });
			},
		});
	});
	afterAll(() => {
		for (const [name, value] of Object.entries(saved))
			if (value === undefined) delete process.env[name];
			else process.env[name] = value;
		proxy.stop(true);
	});

	test("HTTP_PROXY in the environment carries every call; NO_PROXY exempts its hosts", async () => {
		const client = createBotClient({ token: TOKEN, apiRoot: root });
		process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`;
		delete process.env.NO_PROXY;
		const before = received.length;
		expect((await client.api.getMe()) as unknown).toEqual({ via: "proxy" });
		expect(proxied).toEqual([`${root}/bot${TOKEN}/getMe`]);
		expect(received.length).toBe(before);

		process.env.NO_PROXY = "127.0.0.1";
		expect(await client.api.getMe()).toMatchObject({ message_id: 42 });
		expect(proxied).toHaveLength(1);
		expect(received.at(-1)?.method).toBe("getMe");
	});
});
