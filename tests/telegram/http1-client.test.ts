/**
 * The keep-alive HTTP/1.1 client the Bot API's JSON calls go over (src/telegram/http1-client.ts),
 * against servers on 127.0.0.1: Bun's own HTTP server for round trips, and a scripted TCP server
 * for what a server may do on the wire (chunked answers, answers in pieces, closes, silence).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { neverReachedLimiter, proxyInEnvironment } from "../../src/telegram/bot-api.ts";
import { createHttp1Client, readAnswer } from "../../src/telegram/http1-client.ts";

const tlsFile = (name: string) => Bun.file(`${import.meta.dir}/../support/tls/${name}`).text();

/** Bun's HTTP server: echoes the body and says which client port (connection) it came on. */
let echo: ReturnType<typeof Bun.serve>;
beforeAll(() => {
	echo = Bun.serve({
		hostname: "127.0.0.1",
		port: 0,
		async fetch(request, server) {
			const body = await request.text();
			const delay = Number(new URL(request.url).searchParams.get("delay") ?? 0);
			if (delay) await Bun.sleep(delay);
			return Response.json({
				path: new URL(request.url).pathname,
				body,
				length: request.headers.get("content-length"),
				type: request.headers.get("content-type"),
				port: server.requestIP(request)?.port,
			});
		},
	});
});
afterAll(() => echo.stop(true));

/** A TCP server that answers each request with what `answer` writes. */
function scripted(answer: (socket: Socket<{ seen: string }>, request: string) => void) {
	const connections: Socket<{ seen: string }>[] = [];
	let closed = 0;
	const server: TCPSocketListener<{ seen: string }> = Bun.listen({
		hostname: "127.0.0.1",
		port: 0,
		data: { seen: "" },
		socket: {
			open: (socket) => {
				socket.data = { seen: "" };
				connections.push(socket);
			},
			data: (socket, chunk) => {
				socket.data.seen += chunk.toString();
				const end = socket.data.seen.indexOf("\r\n\r\n");
				if (end < 0) return;
				const length = Number(/content-length: (\d+)/i.exec(socket.data.seen)?.[1] ?? 0);
				if (socket.data.seen.length < end + 4 + length) return;
				const request = socket.data.seen.slice(0, end + 4 + length);
				socket.data.seen = socket.data.seen.slice(request.length);
				answer(socket, request);
			},
			close: () => {
				closed++;
			},
		},
	});
	return {
		origin: `http://127.0.0.1:${server.port}`,
		connections,
		closed: () => closed,
		stop: () => server.stop(true),
	};
}

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

async function until(check: () => boolean) {
	const deadline = Date.now() + 5_000;
	while (!check()) {
		if (Date.now() > deadline) throw new Error("condition not met within 5 s");
		await Bun.sleep(5);
	}
}

describe("HTTP/1.1 client: round trips", () => {
	test("a POST carries its JSON body with its length in bytes; the next call reuses the connection", async () => {
		const client = createHttp1Client(`http://127.0.0.1:${echo.port}`);
		const text = JSON.stringify({ text: "Grüße ✓ 🙂" });
		const first = await client.post("/bot1:x/sendMessage", text);
		expect(first.status).toBe(200);
		const seen = json(first.body);
		expect(seen).toMatchObject({
			path: "/bot1:x/sendMessage",
			body: text,
			length: String(new TextEncoder().encode(text).length),
			type: "application/json",
		});
		const second = json((await client.post("/bot1:x/getMe", "{}")).body);
		expect(second.port).toBe(seen.port);
		client.close();
	});

	test("calls at the same time each get their own answer, on connections of their own", async () => {
		const client = createHttp1Client(`http://127.0.0.1:${echo.port}`);
		const answers = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				client.post(`/call?delay=${(20 - i) * 2}`, JSON.stringify({ i })),
			),
		);
		expect(answers.map((answer) => json(json(answer.body).body as string).i)).toEqual(
			Array.from({ length: 20 }, (_, i) => i),
		);
		expect(new Set(answers.map((answer) => json(answer.body).port)).size).toBe(20);
		// Afterwards they are reused rather than opened again.
		const later = json((await client.post("/call", "{}")).body);
		expect(answers.map((answer) => json(answer.body).port)).toContain(later.port);
		client.close();
	});

	test("a connection unused longer than idleMs is not reused", async () => {
		const client = createHttp1Client(`http://127.0.0.1:${echo.port}`, { idleMs: 30 });
		const first = json((await client.post("/a", "{}")).body);
		await Bun.sleep(60);
		const second = json((await client.post("/b", "{}")).body);
		expect(second.port).not.toBe(first.port);
		client.close();
	});
});

describe("HTTP/1.1 client: what a server may send", () => {
	test("chunked bodies, answers in one-byte pieces, and interim 100 answers are read whole", async () => {
		const server = scripted((socket, request) => {
			if (request.includes("/chunked"))
				socket.write(
					'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{"ok":t\r\n6;x=1\r\nrue,"r\r\n4\r\n":1}\r\n0\r\n\r\n',
				);
			else if (request.includes("/pieces")) {
				const answer =
					'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}';
				let at = 0;
				const next = () => {
					if (at < answer.length) socket.write(answer[at++] as string);
					if (at < answer.length) setTimeout(next, 0);
				};
				next();
			}
		});
		const client = createHttp1Client(server.origin);
		expect(json((await client.post("/chunked", "{}")).body)).toEqual({ ok: true, r: 1 });
		expect(await client.post("/pieces", "{}")).toEqual({ status: 200, body: '{"ok":true}' });
		// Both on the one connection: each answer ended exactly where it should.
		expect(server.connections).toHaveLength(1);
		client.close();
		server.stop();
	});

	test("an answer without a length runs to the close; `Connection: close` is not reused", async () => {
		const server = scripted((socket, request) => {
			if (request.includes("/to-close")) socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n{"ok":false}');
			else socket.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
		});
		const client = createHttp1Client(server.origin);
		expect(await client.post("/to-close", "{}")).toEqual({ status: 502, body: '{"ok":false}' });
		expect(await client.post("/close-header", "{}")).toEqual({ status: 200, body: "{}" });
		expect(await client.post("/close-header", "{}")).toEqual({ status: 200, body: "{}" });
		expect(server.connections).toHaveLength(3);
		client.close();
		server.stop();
	});

	test("bytes sent past an answer are never taken for the next call's answer", async () => {
		let calls = 0;
		const server = scripted((socket) => {
			calls++;
			const answer = `HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"n":${calls}}`;
			socket.write(calls === 1 ? answer + answer.replace(`"n":1`, `"n":9`) : answer);
		});
		const client = createHttp1Client(server.origin);
		expect((await client.post("/one", "{}")).body).toBe('{"n":1}');
		expect((await client.post("/two", "{}")).body).toBe('{"n":2}');
		expect(server.connections).toHaveLength(2);
		client.close();
		server.stop();
	});

	test("a server that closes an idle connection: the next call opens another", async () => {
		const server = scripted((socket) => {
			socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
			setTimeout(() => socket.end(), 5);
		});
		const client = createHttp1Client(server.origin);
		await client.post("/one", "{}");
		await until(() => server.closed() === 1);
		await Bun.sleep(5);
		expect(await client.post("/two", "{}")).toEqual({ status: 200, body: "{}" });
		expect(server.connections).toHaveLength(2);
		client.close();
		server.stop();
	});

	test("an answer cut off mid-body rejects the call", async () => {
		const server = scripted((socket) =>
			socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"ok":'),
		);
		const client = createHttp1Client(server.origin);
		const error = await client.post("/cut", "{}").catch((caught: unknown) => caught);
		expect(error).toMatchObject({ code: "ECONNRESET" });
		client.close();
		server.stop();
	});

	test("a call whose signal aborts rejects with its reason and closes its connection", async () => {
		const server = scripted(() => {});
		const client = createHttp1Client(server.origin);
		const error = await client
			.post("/silent", "{}", AbortSignal.timeout(100))
			.catch((caught: unknown) => caught);
		expect((error as Error).name).toBe("TimeoutError");
		await until(() => server.closed() === 1);
		client.close();
		server.stop();
	});

	test("a signal that aborts while the connection is still being made ends the call at once", async () => {
		// A TCP server that never speaks TLS: the handshake, and so the connection, never completes.
		const server = scripted(() => {});
		const client = createHttp1Client(server.origin.replace("http:", "https:"));
		const error = await client
			.post("/x", "{}", AbortSignal.timeout(100))
			.catch((caught: unknown) => caught);
		expect((error as Error).name).toBe("TimeoutError");
		expect(server.connections).toHaveLength(1);
		client.close();
		server.stop();
	});

	test("close() ends the calls in flight and refuses later ones", async () => {
		const server = scripted(() => {});
		const client = createHttp1Client(server.origin);
		const pending = client.post("/silent", "{}").catch((caught: unknown) => caught);
		await until(() => server.connections.length === 1);
		client.close();
		expect(await pending).toMatchObject({ code: "ECONNABORTED" });
		expect(await client.post("/later", "{}").catch((caught: unknown) => caught)).toMatchObject({
			code: "ECONNABORTED",
		});
		await until(() => server.closed() === 1);
		server.stop();
	});

	test("a refused connection is an error the flood budget knows was never sent", async () => {
		const server = scripted(() => {});
		const origin = server.origin;
		server.stop();
		const client = createHttp1Client(origin);
		const error = await client.post("/x", "{}").catch((caught: unknown) => caught);
		expect(error).toMatchObject({ code: "ECONNREFUSED" });
		expect(neverReachedLimiter(error)).toBe(true);
		client.close();
	});

	test("bytes that are not HTTP are a protocol error, and what was complete is never read twice", () => {
		expect(readAnswer(new TextEncoder().encode("SSH-2.0-OpenSSH\r\n\r\n"), false)).toMatchObject({
			code: "EPROTO",
		});
		expect(readAnswer(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Le"), false)).toBeNull();
		const two = new TextEncoder().encode(
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
		);
		const first = readAnswer(two, false);
		expect(first).toMatchObject({ status: 200, body: "{}", keepAlive: true });
		expect(readAnswer(two.subarray((first as { used: number }).used), false)).toMatchObject({
			body: "[]",
		});
	});
});

describe("HTTP/1.1 client: TLS", () => {
	let served = 0;
	const serveTls = async (name: string) =>
		Bun.serve({
			hostname: "127.0.0.1",
			port: 0,
			tls: { cert: await tlsFile(`${name}.cert.pem`), key: await tlsFile(`${name}.key.pem`) },
			fetch: async (request) => {
				served++;
				return Response.json({ body: await request.text() });
			},
		});

	test("a server whose certificate names it, signed by a trusted authority: the call goes through", async () => {
		const server = await serveTls("ip-127.0.0.1");
		const client = createHttp1Client(`https://127.0.0.1:${server.port}`, {
			ca: await tlsFile("ip-127.0.0.1.cert.pem"),
		});
		expect(json((await client.post("/x", '{"a":1}')).body)).toEqual({ body: '{"a":1}' });
		client.close();
		server.stop(true);
	});

	test("an untrusted certificate, or one for another name, is refused before anything is sent", async () => {
		const trustedElsewhere = await serveTls("ip-127.0.0.1");
		const otherName = await serveTls("other-name");
		const before = served;
		const untrusted = createHttp1Client(`https://127.0.0.1:${trustedElsewhere.port}`);
		const misnamed = createHttp1Client(`https://127.0.0.1:${otherName.port}`, {
			ca: await tlsFile("other-name.cert.pem"),
		});
		const refusals = await Promise.all(
			[untrusted, misnamed].map((client) =>
				client.post("/x", "{}").then(
					() => null,
					(caught: unknown) => caught,
				),
			),
		);
		expect(served).toBe(before);
		expect((refusals[0] as { code: string }).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
		expect((refusals[1] as { code: string }).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
		for (const client of [untrusted, misnamed]) client.close();
		trustedElsewhere.stop(true);
		otherName.stop(true);
	});
});

describe("which transport", () => {
	test("a proxy in the environment keeps the Bot API's calls on fetch, which honours it", () => {
		expect(proxyInEnvironment({})).toBe(false);
		expect(proxyInEnvironment({ HTTPS_PROXY: "http://10.0.0.1:3128" })).toBe(true);
		expect(proxyInEnvironment({ http_proxy: "http://10.0.0.1:3128" })).toBe(true);
		expect(proxyInEnvironment({ HTTP_PROXY: "" })).toBe(false);
	});
});
