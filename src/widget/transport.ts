/**
 * Talking to the service: JSON over fetch, uploads over XHR (for progress), and one WebSocket
 * that reconnects forever. Knows nothing about messages or the DOM.
 */

export class ApiError extends Error {
	constructor(
		readonly code: string,
		message: string,
		readonly status = 0,
		/** From `Retry-After` (seconds), in ms; 0 when not given. */
		readonly retryAfter = 0,
	) {
		super(message);
	}
}

/**
 * Transient: worth retrying later with the same request (no answer, a server error, too many
 * requests). Any other 4xx is the server's final word.
 */
export const transient = (e: unknown) =>
	!(e instanceof ApiError) || e.status === 0 || e.status >= 500 || e.status === 429;

/** `Retry-After` in ms: seconds or an HTTP date; 0 when absent or unreadable. */
function retryAfter(value: string | null): number {
	if (!value) return 0;
	const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
	return Math.max(ms || 0, 0);
}

type Envelope<T> = { success: boolean; data: T; error?: { code: string; message: string } };

function unwrap<T>(status: number, body: Envelope<T> | null, after: string | null): T {
	if (body?.success) return body.data;
	const error = body?.error;
	throw new ApiError(
		error?.code ?? "HTTP",
		error?.message ?? `HTTP ${status}`,
		status,
		retryAfter(after),
	);
}

export function createHttp(api: string, session: () => string | null) {
	const headers = (json: boolean) => {
		// No Content-Type on GETs: it would cost a CORS preflight per URL.
		const list: Record<string, string> = json ? { "Content-Type": "application/json" } : {};
		const id = session();
		if (id) list["X-Session-Id"] = id;
		return list;
	};

	async function call<T>(path: string, body?: unknown): Promise<T> {
		let response: Response;
		try {
			response = await fetch(`${api}/api/chat/${path}`, {
				method: body === undefined ? "GET" : "POST",
				headers: headers(body !== undefined),
				body: body === undefined ? undefined : JSON.stringify(body),
				credentials: "include",
			});
		} catch {
			throw new ApiError("NETWORK", "network");
		}
		let parsed: Envelope<T> | null = null;
		try {
			parsed = (await response.json()) as Envelope<T>;
		} catch {}
		return unwrap(
			response.status,
			parsed,
			response.status === 429 ? response.headers.get("Retry-After") : null,
		);
	}

	function upload<T>(file: File, caption: string, progress: (share: number) => void): Promise<T> {
		return new Promise((resolve, reject) => {
			const xhr = new XMLHttpRequest();
			xhr.open("POST", `${api}/api/chat/upload`);
			xhr.withCredentials = true;
			for (const [name, value] of Object.entries(headers(false))) xhr.setRequestHeader(name, value);
			xhr.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
			xhr.onerror = () => reject(new ApiError("NETWORK", "network"));
			xhr.onload = () => {
				let parsed: Envelope<T> | null = null;
				try {
					parsed = JSON.parse(xhr.responseText) as Envelope<T>;
				} catch {}
				try {
					// Only on 429: reading a header CORS does not expose logs a console error.
					const after = xhr.status === 429 ? xhr.getResponseHeader("Retry-After") : null;
					resolve(unwrap(xhr.status, parsed, after));
				} catch (e) {
					reject(e);
				}
			};
			const form = new FormData();
			form.append("file", file);
			if (caption) form.append("caption", caption);
			xhr.send(form);
		});
	}

	return { call, upload };
}

export type Http = ReturnType<typeof createHttp>;

export interface SocketHandlers {
	frame(type: string, data: Record<string, unknown>): void;
	/** The socket closed (or was retired); `code` 4001 means the session is unknown. */
	down(code: number): void;
}

const MAX_DELAY = 30_000;
const STABLE_MS = 10_000;

/**
 * One live socket at a time. Capped exponential backoff with full jitter, forever; the attempt
 * counter resets only once `connected` arrived and the socket stayed up for a while, so a server
 * that accepts and drops at once does not cause a tight loop. Events of retired sockets are
 * ignored: after a back-forward cache restore the old socket's `close` arrives late.
 */
export function createSocket(url: () => string | null, on: SocketHandlers) {
	let ws: WebSocket | null = null;
	let attempt = 0;
	let retryTimer: ReturnType<typeof setTimeout> | undefined;
	let stableTimer: ReturnType<typeof setTimeout> | undefined;
	let running = false;

	function open() {
		clearTimeout(retryTimer);
		const target = url();
		if (!running || ws || !target) return;
		// Offline, an attempt only fails (and logs); `online` restarts at once anyway.
		if (!navigator.onLine) return schedule();
		let sock: WebSocket;
		try {
			sock = new WebSocket(target);
		} catch {
			return schedule();
		}
		ws = sock;
		sock.onmessage = (event) => {
			if (ws !== sock) return;
			let frame: { type?: string; data?: Record<string, unknown> };
			try {
				frame = JSON.parse(String(event.data));
			} catch {
				return;
			}
			if (frame.type === "ping") return send("pong");
			if (frame.type === "connected") {
				clearTimeout(stableTimer);
				stableTimer = setTimeout(() => {
					attempt = 0;
				}, STABLE_MS);
			}
			on.frame(frame.type ?? "", frame.data ?? {});
		};
		sock.onclose = (event) => {
			if (ws !== sock) return;
			ws = null;
			clearTimeout(stableTimer);
			on.down(event.code);
			schedule();
		};
	}

	function schedule() {
		if (!running) return;
		clearTimeout(retryTimer);
		const delay = Math.random() * Math.min(MAX_DELAY, 500 * 2 ** attempt);
		attempt = Math.min(attempt + 1, 16);
		retryTimer = setTimeout(open, delay);
	}

	/** Close the current socket without reacting to its events any more. */
	function retire() {
		const sock = ws;
		ws = null;
		clearTimeout(stableTimer);
		if (!sock) return;
		sock.onclose = sock.onmessage = null;
		try {
			sock.close();
		} catch {}
		on.down(1000);
	}

	function send(type: string, data?: unknown) {
		if (ws?.readyState === WebSocket.OPEN)
			ws.send(JSON.stringify(data ? { type, data } : { type }));
	}

	return {
		send,
		/** Start, or reconnect at once if down (`online`, tab visible, bfcache restore). */
		now() {
			running = true;
			if (!ws) open();
		},
		/** Drop the current socket and connect afresh at once. */
		restart() {
			running = true;
			retire();
			open();
		},
		/** Stop for good (unknown session) or until `now()` (page hidden into bfcache). */
		stop() {
			running = false;
			clearTimeout(retryTimer);
			retire();
		},
	};
}

export type Socket = ReturnType<typeof createSocket>;
