/**
 * Runs the service as a real child process (source or compiled binary) and talks to it over HTTP.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface ChildService {
	proc: Subprocess<"ignore", "pipe", "pipe">;
	url: string;
	output(): string;
	/** Sends a signal and resolves with the exit code and how long the exit took. */
	stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** A free TCP port on 127.0.0.1, found by binding to port 0. */
export function freePort(): number {
	const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
	const port = server.port as number;
	server.stop(true);
	return port;
}

/** Directories `tempDir` made, not yet removed. */
const made: string[] = [];

/**
 * Removes every directory `tempDir` made: after the whole test run (preload.ts; `bun test` never
 * emits "exit"), and when a benchmark's process exits.
 */
export function removeTempDirs() {
	for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
process.on("exit", removeTempDirs);

/** A fresh directory under the system's temporary directory, removed at the end of the run. */
export function tempDir(prefix: string) {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	made.push(dir);
	return dir;
}

export async function spawnService(
	command: string[],
	env: Record<string, string>,
	options: { readyPath?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<ChildService> {
	const port = freePort();
	const proc = Bun.spawn(command, {
		env: {
			PATH: process.env.PATH ?? "",
			HOME: process.env.HOME ?? "",
			...env,
			PORT: String(port),
			HOST: "127.0.0.1",
		},
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
		cwd: options.cwd,
	});
	let text = "";
	const decoder = new TextDecoder();
	const drain = async (stream: ReadableStream<Uint8Array>) => {
		for await (const chunk of stream) text += decoder.decode(chunk);
	};
	void drain(proc.stdout);
	void drain(proc.stderr);
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + (options.timeoutMs ?? 30_000);
	const path = options.readyPath ?? "/health";
	for (;;) {
		if (proc.exitCode !== null)
			throw new Error(`service exited early (${proc.exitCode}):\n${text}`);
		try {
			const response = await fetch(`${url}${path}`);
			if (response.status === 200) break;
		} catch {}
		if (Date.now() > deadline) {
			proc.kill("SIGKILL");
			throw new Error(`service not ready within the timeout:\n${text}`);
		}
		await Bun.sleep(100);
	}
	return {
		proc,
		url,
		output: () => text,
		async stop(signal = "SIGTERM") {
			const started = Date.now();
			proc.kill(signal);
			const code = await proc.exited;
			return { code, ms: Date.now() - started };
		},
	};
}

/**
 * The variables `bun start` sets before the service (`NAME=value` words that open the `start`
 * script of the checkout's package.json, e.g. the JavaScript engine's tiers): the benchmarks run
 * the service with them, spawning `bun run src/index.ts` themselves so that the pid they measure
 * is the service's.
 */
export function startScriptEnvironment(dir: string): Record<string, string> {
	const manifest = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as {
		scripts?: { start?: string };
	};
	const env: Record<string, string> = {};
	for (const word of (manifest.scripts?.start ?? "").split(/\s+/)) {
		const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word);
		if (!assignment) break;
		env[assignment[1] as string] = assignment[2] as string;
	}
	return env;
}
