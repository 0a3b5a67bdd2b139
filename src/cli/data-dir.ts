/**
 * Who uses the embedded database in DATA_DIR. PGlite is one process's database: two processes
 * opening the same directory corrupt it. So the process that opens it (the service, or a
 * `backup`/`restore`/`migrate` run while no service runs) writes its pid to
 * `DATA_DIR/topicdesk.pid` first, and the service also answers on a Unix socket in DATA_DIR
 * (`control.sock`) that `backup` asks for a consistent copy. A Unix socket rather than an HTTP
 * route: only someone who can read DATA_DIR (and so the database itself) can reach it, and it is
 * never behind the public reverse proxy.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PID_FILE = "topicdesk.pid";
export const CONTROL_SOCKET = "control.sock";
/** Linux's limit on a Unix socket path (sun_path is 108 bytes, with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

export function pidFile(dataDir: string) {
	return join(dataDir, PID_FILE);
}

/** The control socket's path, or undefined when DATA_DIR is too deep for a Unix socket path. */
export function controlSocketPath(dataDir: string): string | undefined {
	const path = join(dataDir, CONTROL_SOCKET);
	return Buffer.byteLength(path) <= MAX_SOCKET_PATH ? path : undefined;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: the process exists but belongs to someone else.
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}

/** The pid of another live process holding DATA_DIR, if any (a stale file is ignored). */
export function holderOf(dataDir: string): number | undefined {
	let pid: number;
	try {
		pid = Number(readFileSync(pidFile(dataDir), "utf8").trim());
	} catch {
		return undefined;
	}
	if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
	return alive(pid) ? pid : undefined;
}

export class DataDirBusy extends Error {
	constructor(
		readonly dataDir: string,
		/** Undefined when only the control socket answered (a process in another container). */
		readonly pid: number | undefined,
	) {
		super(
			pid === undefined
				? `DATA_DIR ${dataDir} is in use by another topicdesk process (it answers on ${CONTROL_SOCKET}, perhaps from another container). Stop it first.`
				: `DATA_DIR ${dataDir} is in use by another topicdesk process (pid ${pid}). Stop it first, or remove ${pidFile(dataDir)} if that process is not topicdesk.`,
		);
	}
}

/**
 * Claims DATA_DIR like claimDataDir, after also asking the control socket: in containers every
 * process may be pid 1, so a live pid file can look like our own, but a running service answers.
 */
export async function claimDataDirChecked(dataDir: string): Promise<() => void> {
	if (await askService(dataDir, "/ping")) throw new DataDirBusy(dataDir, holderOf(dataDir));
	return claimDataDir(dataDir);
}

/**
 * Claims DATA_DIR for this process; throws DataDirBusy when another live process holds it.
 * Returns the release function (removes the pid file if it is still ours).
 */
export function claimDataDir(dataDir: string): () => void {
	mkdirSync(dataDir, { recursive: true });
	const holder = holderOf(dataDir);
	if (holder !== undefined) throw new DataDirBusy(dataDir, holder);
	writeFileSync(pidFile(dataDir), `${process.pid}\n`);
	return () => {
		try {
			if (readFileSync(pidFile(dataDir), "utf8").trim() === String(process.pid))
				rmSync(pidFile(dataDir), { force: true });
		} catch {}
	};
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
