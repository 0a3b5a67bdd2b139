/**
 * The running service's control socket: a Unix socket in DATA_DIR (`control.sock`) on which the
 * service that holds the embedded database answers `GET /ping` and `POST /backup`. A Unix socket
 * rather than an HTTP route: only someone who can read DATA_DIR (and so the database itself) can
 * reach it, and it is never behind the public reverse proxy.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

export const CONTROL_SOCKET = "control.sock";
/** Linux's limit on a Unix socket path (sun_path is 108 bytes, with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

/** The control socket's path, or undefined when DATA_DIR is too deep for a Unix socket path. */
export function controlSocketPath(dataDir: string): string | undefined {
	const path = join(dataDir, CONTROL_SOCKET);
	return Buffer.byteLength(path) <= MAX_SOCKET_PATH ? path : undefined;
}

/** Asks the running service over its control socket; undefined when nobody answers. */
export async function askService(
	dataDir: string,
	path: string,
	init: RequestInit = {},
): Promise<Response | undefined> {
	const socket = controlSocketPath(dataDir);
	if (!socket || !existsSync(socket)) return undefined;
	try {
		return await fetch(`http://localhost${path}`, { ...init, unix: socket });
	} catch {
		return undefined;
	}
}

/**
 * Serves the control socket for the running service: `GET /ping` and `POST /backup`. A stale
 * socket file from a crashed run is replaced.
 */
export function serveControl(
	dataDir: string,
	handlers: { backup(): Promise<Blob> },
): { stop(): void } | undefined {
	const path = controlSocketPath(dataDir);
	if (!path) return undefined;
	rmSync(path, { force: true });
	const server = Bun.serve({
		unix: path,
		async fetch(request) {
			const { pathname } = new URL(request.url);
			if (pathname === "/ping") return new Response("topicdesk");
			if (pathname === "/backup" && request.method === "POST")
				return new Response(await handlers.backup(), {
					headers: { "content-type": "application/gzip" },
				});
			return new Response("not found", { status: 404 });
		},
	});
	return {
		stop() {
			server.stop(true);
			rmSync(path, { force: true });
		},
	};
}
