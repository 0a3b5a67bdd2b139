/**
 * The machine and the code a benchmark ran on, as recorded in docs/BENCHMARKS.md.
 */

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { openFilesLimit } from "./proc.ts";

export interface Machine {
	cpus: number;
	cpuModel: string;
	memory: string;
	bun: string;
	postgres: string;
	openFiles: number;
	date: string;
	command: string;
	code: string;
}

const run = (cmd: string[], cwd?: string) =>
	Bun.spawnSync(cmd, { cwd, stderr: "ignore" }).stdout.toString().trim();

/** `abc1234` or `abc1234 + uncommitted changes in src/` for the service under test. */
function codeVersion(serviceDir: string): string {
	const commit = run(["git", "rev-parse", "--short", "HEAD"], serviceDir) || "unknown commit";
	const dirty = run(["git", "status", "--porcelain", "--", "src"], serviceDir) !== "";
	return dirty ? `${commit} + uncommitted changes in src/` : commit;
}

export function describeMachine(serviceDir: string, postgres: string): Machine {
	const cpuModel =
		/^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ??
		"unknown";
	const memLine = run(["free", "-h"])
		.split("\n")
		.find((line) => line.startsWith("Mem:"));
	return {
		cpus: availableParallelism(),
		cpuModel,
		memory: memLine ? `${memLine.split(/\s+/)[1]} total (\`free -h\`)` : "unknown",
		bun: Bun.version,
		postgres,
		openFiles: openFilesLimit(),
		date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
		command: process.env.BENCH_COMMAND ?? `bun ${process.argv.slice(1).join(" ")}`,
		code: codeVersion(serviceDir),
	};
}
