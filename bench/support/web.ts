/**
 * The widget side of the load: sessions over HTTP and many WebSockets, built on the test suite's
 * client (tests/support/web-client.ts).
 */
import {
	api,
	connectSocket,
	type Envelope,
	type Frame,
	type SocketClient,
} from "../../tests/support/web-client.ts";
import { closedLoop, type LoadResult, now } from "./clock.ts";

/** A distinct client address per index (the service trusts X-Forwarded-For in benchmarks). */
export function clientAddress(index: number): string {
	return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/** POST /api/chat/init `count` times with `concurrency` in flight; the session ids in order. */
export async function initSessions(
	url: string,
	count: number,
	concurrency: number,
	firstAddress = 0,
): Promise<{ sessionIds: string[]; load: LoadResult }> {
	const sessionIds: string[] = new Array(count);
	const load = await closedLoop(count, concurrency, async (index) => {
		const response = await api<Envelope<{ sessionId: string }>>(url, "POST", "/api/chat/init", {
			headers: { "x-forwarded-for": clientAddress(firstAddress + index) },
		});
		if (response.status !== 200)
			throw new Error(`init answered ${response.status}: ${JSON.stringify(response.body)}`);
		sessionIds[index] = response.body.data.sessionId;
	});
	if (load.errors > 0) throw new Error(`${load.errors} inits failed, e.g. ${load.firstError}`);
	return { sessionIds, load };
}

/** Calls `handler` with every frame a socket receives and the time it arrived. */
export function onFrame(client: SocketClient, handler: (frame: Frame, at: number) => void) {
	client.ws.addEventListener("message", (event) => {
		const at = now();
		handler(JSON.parse(String(event.data)) as Frame, at);
	});
}

/**
 * Opens `perSession` sockets for each session, `concurrency` at a time, each waited for until its
 * `connected` frame. Returns them grouped by session.
 */
export async function openSockets(
	url: string,
	sessionIds: readonly string[],
	perSession: number,
	concurrency = 200,
): Promise<SocketClient[][]> {
	const grouped: SocketClient[][] = sessionIds.map(() => []);
	const load = await closedLoop(sessionIds.length * perSession, concurrency, async (index) => {
		const session = Math.floor(index / perSession);
		const client = connectSocket(url, `?session=${sessionIds[session]}`);
		(grouped[session] as SocketClient[]).push(client);
		await client.next("connected", 60_000);
	});
	if (load.errors > 0)
		throw new Error(`${load.errors} sockets did not connect, e.g. ${load.firstError}`);
	return grouped;
}

/** Closes sockets and waits (bounded) until they are closed. */
export async function closeSockets(clients: readonly SocketClient[]): Promise<void> {
	for (const client of clients) client.close();
	await Promise.race([Promise.all(clients.map((c) => c.closed)), Bun.sleep(10_000)]);
}
