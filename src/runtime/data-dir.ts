/**
 * Who uses the embedded database in DATA_DIR. PGlite is one process's database: two processes
 * opening the same directory corrupt it. So the process that opens it (the service, or a
 * `backup`/`restore`/`migrate` run while no service runs) writes its pid to
 * `DATA_DIR/topicdesk.pid` first; a running service also answers on its control socket
 * (control-socket.ts), which tells a live holder from a stale pid file.
 */
import {
	chmodSync,
	lstatSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { askService, CONTROL_SOCKET } from "./control-socket.ts";

export const PID_FILE = "topicdesk.pid";

/**
 * Creates DATA_DIR if needed and makes it the owner's alone (0700): it holds the database files,
 * the generated app secret and the setup code, and a directory nobody else may enter also covers
 * files an earlier version left readable by others.
 */
export function ensurePrivateDir(dataDir: string) {
	mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	chmodSync(dataDir, 0o700);
}

/**
 * Takes group and other permissions off everything under `dir`. PGlite writes the files of a new
 * database with modes of its own (0666, 0644) whatever the process's umask, and earlier versions
 * left theirs so; the files PostgreSQL creates afterwards follow the umask (0600).
 */
export function makePrivate(dir: string) {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isSymbolicLink()) continue;
		const { mode } = lstatSync(path);
		if (mode & 0o077) chmodSync(path, mode & 0o700);
		if (entry.isDirectory()) makePrivate(path);
	}
}

export function pidFile(dataDir: string) {
	return join(dataDir, PID_FILE);
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
	ensurePrivateDir(dataDir);
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
