/**
 * A widget's view of the service: real fetch and real WebSocket against the listener.
 */
export interface ApiResponse<T = unknown> {
	status: number;
	headers: Headers;
	body: T;
}

export interface Envelope<T = Record<string, unknown>> {
	success: boolean;
	data: T;
	error: { code: string; message: string };
}

export interface RequestOptions {
	session?: string;
	body?: unknown;
	/** A raw body sent as is (malformed JSON tests). */
	rawBody?: string;
	headers?: Record<string, string>;
}

/** Calls the API; JSON bodies get their Content-Type set explicitly (Bun sends none for strings). */
export async function api<T = Envelope>(
	baseUrl: string,
	method: string,
	path: string,
	options: RequestOptions = {},
): Promise<ApiResponse<T>> {
	const headers: Record<string, string> = { ...options.headers };
	if (options.session) headers["x-session-id"] = options.session;
	let body: string | undefined;
	if (options.rawBody !== undefined) body = options.rawBody;
	else if (options.body !== undefined) body = JSON.stringify(options.body);
	if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
		headers["content-type"] = "application/json";
	const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
	const text = await response.text();
	let parsed: unknown = text;
	try {
		parsed = JSON.parse(text);
	} catch {}
	return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Starts a web session and returns its id and the Set-Cookie header. */
export async function initSession(baseUrl: string, body?: unknown) {
	const response = await api<Envelope<{ sessionId: string; isNewSession: boolean }>>(
		baseUrl,
		"POST",
		"/api/chat/init",
		{ body },
	);
	if (response.status !== 200) throw new Error(`init failed: ${JSON.stringify(response.body)}`);
	return {
		sessionId: response.body.data.sessionId,
		cookie: response.headers.get("set-cookie") ?? "",
		response,
	};
}

export interface Frame {
	type: string;
	data: Record<string, unknown>;
}

export interface SocketClient {
	ws: WebSocket;
	frames: Frame[];
	/** The first not yet returned frame matching `match`, waiting up to `timeoutMs`. */
	next(match?: string | ((frame: Frame) => boolean), timeoutMs?: number): Promise<Frame>;
	send(frame: unknown): void;
	sendRaw(data: string | ArrayBufferLike): void;
	closed: Promise<{ code: number; reason: string }>;
	close(): void;
}

export function connectSocket(
	baseUrl: string,
	query: string,
	init?: { headers?: Record<string, string> },
): SocketClient {
	const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws/chat${query}`, init as never);
	const frames: Frame[] = [];
	const used = new Set<number>();
	const waiters = new Set<() => void>();
	ws.onmessage = (event) => {
		frames.push(JSON.parse(String(event.data)) as Frame);
		for (const wake of waiters) wake();
	};
	const closed = new Promise<{ code: number; reason: string }>((resolve) => {
		ws.onclose = (event) => {
			resolve({ code: event.code, reason: event.reason });
			for (const wake of waiters) wake();
		};
	});
	const opened = new Promise<void>((resolve) => {
		ws.onopen = () => resolve();
	});
	return {
		ws,
		frames,
		closed,
		next(match, timeoutMs = 10_000) {
			const test =
				typeof match === "function"
					? match
					: (frame: Frame) => match === undefined || frame.type === match;
			return new Promise<Frame>((resolve, reject) => {
				const check = () => {
					for (let i = 0; i < frames.length; i++) {
						const frame = frames[i] as Frame;
						if (!used.has(i) && test(frame)) {
							used.add(i);
							cleanup();
							resolve(frame);
							return;
						}
					}
				};
				const timer = setTimeout(() => {
					cleanup();
					reject(
						new Error(
							`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-5))}`,
						),
					);
				}, timeoutMs);
				const cleanup = () => {
					clearTimeout(timer);
					waiters.delete(check);
				};
				waiters.add(check);
				check();
			});
		},
		send(frame) {
			void opened.then(() => ws.send(JSON.stringify(frame)));
		},
		sendRaw(data) {
			void opened.then(() => ws.send(data));
		},
		close() {
			ws.close();
		},
	};
}
