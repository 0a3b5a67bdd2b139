/**
 * A small keep-alive HTTP/1.1 client for the Bot API's JSON calls, on Bun's own TCP (and TLS)
 * sockets. Why not `fetch`: Bun's `fetch` hands every request to an HTTP client thread and back,
 * so each call wakes a second thread; at a light load (every call alone) that thread cost about
 * 0.12 CPU-ms per message of the 2.0 the desk may spend at 50 messages/s, measured in pairs
 * (docs/BENCHMARKS.md, issue 10, thirteenth pass). Here a call is a write and a read on the main
 * thread's event loop.
 *
 * What it does, and only that: POST a body to a path of one origin and read the answer's status
 * and body (by Content-Length, chunked, or up to the close); connections are reused one call at
 * a time (no pipelining) and dropped after `idleMs` unused, before a server's own keep-alive
 * timeout could close one under a new call. TLS verifies the certificate and the host name as
 * `fetch` does. A call whose signal aborts closes its connection and rejects with the signal's
 * reason. Proxies are `fetch`'s business: the Bot API client keeps `fetch` when one is set.
 */
import type { Socket } from "bun";

export interface Http1Answer {
	status: number;
	body: string;
}

export interface Http1Client {
	post(path: string, body: string, signal?: AbortSignal): Promise<Http1Answer>;
	/** Closes every connection; calls in flight reject. */
	close(): void;
}

export interface Http1Options {
	/** Extra certificate authorities to trust (PEM), besides the system's: tests' own. */
	ca?: string;
	/** A connection unused this long is closed rather than reused. Default 4 s. */
	idleMs?: number;
}

/** A connection error with a code, as `fetch` and Node name them (bot-api.ts reads the code). */
export class Http1Error extends Error {
	constructor(
		message: string,
		readonly code: string,
	) {
		super(message);
		this.name = "Http1Error";
	}
}

interface Waiter {
	resolve(answer: Http1Answer): void;
	reject(error: unknown): void;
}

interface Connection {
	socket: Socket<undefined>;
	/** Bytes received and not yet consumed by an answer. */
	received: Uint8Array;
	waiter: Waiter | null;
	/** Request bytes the socket did not take yet (backpressure), written on `drain`. */
	unsent: Uint8Array | null;
	closed: boolean;
	idleSince: number;
}

const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createHttp1Client(origin: string, options: Http1Options = {}): Http1Client {
	const url = new URL(origin);
	const secure = url.protocol === "https:";
	if (!secure && url.protocol !== "http:")
		throw new Error(`${origin}: only http and https are supported`);
	const hostname = url.hostname.replace(/^\[|\]$/g, "");
	const port = Number(url.port || (secure ? 443 : 80));
	const idleMs = options.idleMs ?? 4_000;
	const idle: Connection[] = [];
	const open = new Set<Connection>();
	let closed = false;

	/** Closes the connection for good; the call on it, if any, rejects with `error`. */
	const fail = (connection: Connection, error: unknown) => {
		const waiter = connection.waiter;
		connection.waiter = null;
		if (!connection.closed) {
			connection.closed = true;
			open.delete(connection);
			const at = idle.indexOf(connection);
			if (at >= 0) idle.splice(at, 1);
			// Terminating runs the socket's close handler at once; the waiter is already detached,
			// so the call rejects with this error, not the close's.
			connection.socket?.terminate();
		}
		waiter?.reject(error);
	};

	/** Reads as many answers as `received` holds; more than the one awaited is a protocol error. */
	const consume = (connection: Connection, ended: boolean) => {
		const parsed = readAnswer(connection.received, ended);
		if (parsed === null) return;
		if (parsed instanceof Error || !connection.waiter) {
			fail(
				connection,
				parsed instanceof Error ? parsed : new Http1Error("unexpected bytes", "EPROTO"),
			);
			return;
		}
		connection.received = connection.received.subarray(parsed.used);
		const waiter = connection.waiter;
		connection.waiter = null;
		// Bytes past the answer were never asked for: reused, the connection would hand them to the
		// next call as its answer.
		if (parsed.keepAlive && !ended && connection.received.length === 0) release(connection);
		else fail(connection, null);
		waiter.resolve({ status: parsed.status, body: parsed.body });
	};

	const connect = (): Promise<Connection> =>
		new Promise((resolve, reject) => {
			const connection = {
				received: new Uint8Array(0),
				waiter: null,
				unsent: null,
				closed: false,
				idleSince: 0,
			} as unknown as Connection;
			let settled = false;
			const ready = (error?: unknown) => {
				if (settled) return;
				settled = true;
				if (error) reject(error);
				else {
					open.add(connection);
					resolve(connection);
				}
			};
			Bun.connect({
				hostname,
				port,
				...(secure
					? { tls: { serverName: hostname, ...(options.ca ? { ca: options.ca } : {}) } }
					: {}),
				socket: {
					open: (socket) => {
						connection.socket = socket as Socket<undefined>;
						if (!secure) ready();
					},
					handshake: (socket, success, error) => {
						if (success) return ready();
						const code = (error as { code?: string } | null)?.code ?? "ERR_TLS_HANDSHAKE";
						ready(new Http1Error(`TLS: ${error?.message ?? code}`, code));
						socket.terminate();
					},
					data: (_socket, chunk) => {
						connection.received = append(connection.received, chunk);
						if (connection.waiter) consume(connection, false);
						else if (connection.received.length > 0) {
							fail(connection, new Http1Error("unexpected bytes", "EPROTO"));
						}
					},
					drain: (socket) => {
						const unsent = connection.unsent;
						if (!unsent) return;
						const written = socket.write(unsent);
						connection.unsent = written < unsent.length ? unsent.subarray(written) : null;
					},
					end: () => {
						// The server closed its side: an answer read up to the close ends here, and an
						// idle connection is done (Bun leaves our side open until we close it).
						if (connection.waiter) consume(connection, true);
						else fail(connection, null);
					},
					close: (_socket, error) => {
						ready(error ?? new Http1Error("connection closed", "ECONNRESET"));
						if (connection.waiter && connection.received.length > 0) consume(connection, true);
						fail(
							connection,
							error ?? new Http1Error("connection closed before the answer", "ECONNRESET"),
						);
					},
					error: (_socket, error) => {
						ready(error);
						fail(connection, error);
					},
					connectError: (_socket, error) => ready(error),
				},
			}).catch(ready);
		});

	/** Puts a connection nobody waits on among the idle ones (or closes it after close()). */
	const release = (connection: Connection) => {
		if (closed) return fail(connection, null);
		connection.idleSince = performance.now();
		idle.push(connection);
	};

	/**
	 * An idle connection still fresh, or a new one. A signal that aborts while the connection is
	 * being made ends the wait at once (a host that does not answer would hold it for the kernel's
	 * connect timeout); the connection, once made, is kept for the next call.
	 */
	const take = async (signal?: AbortSignal): Promise<Connection> => {
		const now = performance.now();
		for (let connection = idle.pop(); connection; connection = idle.pop()) {
			if (connection.closed) continue;
			if (now - connection.idleSince < idleMs) return connection;
			fail(connection, null);
		}
		const made = connect();
		if (!signal) return made;
		return new Promise((resolve, reject) => {
			const onAbort = () => reject(signal.reason);
			signal.addEventListener("abort", onAbort, { once: true });
			made.then(
				(connection) => {
					signal.removeEventListener("abort", onAbort);
					if (signal.aborted) release(connection);
					else resolve(connection);
				},
				(error: unknown) => {
					signal.removeEventListener("abort", onAbort);
					reject(error);
				},
			);
		});
	};

	return {
		post: async (path, body, signal) => {
			signal?.throwIfAborted();
			if (closed) throw new Http1Error("client closed", "ECONNABORTED");
			const connection = await take(signal);
			const payload = encoder.encode(body);
			const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: keep-alive\r\n\r\n`;
			const request = append(encoder.encode(head), payload);
			return new Promise<Http1Answer>((resolve, reject) => {
				const onAbort = () => fail(connection, signal?.reason);
				signal?.addEventListener("abort", onAbort, { once: true });
				const done = () => signal?.removeEventListener("abort", onAbort);
				connection.waiter = {
					resolve: (answer) => {
						done();
						resolve(answer);
					},
					reject: (error) => {
						done();
						reject(error);
					},
				};
				if (signal?.aborted) return onAbort();
				const written = connection.socket.write(request);
				if (written < 0) fail(connection, new Http1Error("connection closed", "ECONNRESET"));
				else if (written < request.length) connection.unsent = request.subarray(written);
			});
		},
		close: () => {
			closed = true;
			idle.length = 0;
			for (const connection of open)
				fail(connection, new Http1Error("client closed", "ECONNABORTED"));
		},
	};
}

function append(a: Uint8Array, b: Uint8Array): Uint8Array {
	if (a.length === 0) return b;
	const joined = new Uint8Array(a.length + b.length);
	joined.set(a);
	joined.set(b, a.length);
	return joined;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
	outer: for (let i = from; i + needle.length <= haystack.length; i++) {
		for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
		return i;
	}
	return -1;
}

interface Parsed {
	status: number;
	body: string;
	keepAlive: boolean;
	/** Bytes of `received` this answer took. */
	used: number;
}

/**
 * One complete answer at the start of `bytes`, null while more bytes are needed, or an Error for
 * what is not HTTP/1.x. `ended`: the server closed its side, so a body without a length ends here.
 * Interim answers (1xx) are skipped.
 */
export function readAnswer(bytes: Uint8Array, ended: boolean): Parsed | Error | null {
	let start = 0;
	for (;;) {
		const headEnd = indexOf(bytes, CRLF_CRLF, start);
		if (headEnd < 0)
			return ended ? new Http1Error("connection closed mid-answer", "ECONNRESET") : null;
		const lines = decoder.decode(bytes.subarray(start, headEnd)).split("\r\n");
		const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
		if (!status) return new Http1Error(`not an HTTP/1.x answer: ${lines[0]}`, "EPROTO");
		const code = Number(status[2]);
		const headers = new Map<string, string>();
		for (const line of lines.slice(1)) {
			const colon = line.indexOf(":");
			if (colon > 0)
				headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
		}
		const bodyStart = headEnd + 4;
		if (code >= 100 && code < 200) {
			start = bodyStart;
			continue;
		}
		const connectionHeader = headers.get("connection")?.toLowerCase() ?? "";
		let keepAlive =
			status[1] === "1" ? connectionHeader !== "close" : connectionHeader === "keep-alive";
		let body: Uint8Array;
		let used: number;
		if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
			const chunked = readChunked(bytes, bodyStart);
			if (chunked === null)
				return ended ? new Http1Error("connection closed mid-answer", "ECONNRESET") : null;
			if (chunked instanceof Error) return chunked;
			({ body, used } = chunked);
		} else if (headers.has("content-length")) {
			const length = Number(headers.get("content-length"));
			if (!Number.isSafeInteger(length) || length < 0)
				return new Http1Error("bad Content-Length", "EPROTO");
			if (bytes.length < bodyStart + length)
				return ended ? new Http1Error("connection closed mid-answer", "ECONNRESET") : null;
			body = bytes.subarray(bodyStart, bodyStart + length);
			used = bodyStart + length;
		} else if (code === 204 || code === 304) {
			body = new Uint8Array(0);
			used = bodyStart;
		} else {
			// No length: the body runs to the close.
			if (!ended) return null;
			body = bytes.subarray(bodyStart);
			used = bytes.length;
			keepAlive = false;
		}
		return { status: code, body: decoder.decode(body), keepAlive, used };
	}
}

function readChunked(
	bytes: Uint8Array,
	from: number,
): { body: Uint8Array; used: number } | Error | null {
	const parts: Uint8Array[] = [];
	let at = from;
	for (;;) {
		const lineEnd = indexOf(bytes, CRLF_CRLF.subarray(0, 2), at);
		if (lineEnd < 0) return null;
		const size = Number.parseInt(
			decoder.decode(bytes.subarray(at, lineEnd)).split(";")[0] ?? "",
			16,
		);
		if (!Number.isSafeInteger(size) || size < 0) return new Http1Error("bad chunk size", "EPROTO");
		at = lineEnd + 2;
		if (size === 0) {
			// Trailers, if any, end with an empty line.
			const end = indexOf(bytes, CRLF_CRLF.subarray(0, 2), at);
			if (end < 0) return null;
			if (end === at) return { body: concat(parts), used: at + 2 };
			const trailersEnd = indexOf(bytes, CRLF_CRLF, at);
			if (trailersEnd < 0) return null;
			return { body: concat(parts), used: trailersEnd + 4 };
		}
		if (bytes.length < at + size + 2) return null;
		parts.push(bytes.subarray(at, at + size));
		at += size + 2;
	}
}

/** The chunks of a chunked body, joined in one copy (folding `append` would copy each again). */
function concat(parts: Uint8Array[]): Uint8Array {
	const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
	let at = 0;
	for (const part of parts) {
		joined.set(part, at);
		at += part.length;
	}
	return joined;
}
