/**
 * Markdown output: tables for the terminal and the benchmark's own section of
 * docs/BENCHMARKS.md, replaced in place on every run.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Summary } from "./clock.ts";
import type { Machine } from "./machine.ts";

export const DOC_PATH = resolve(import.meta.dir, "../../docs/BENCHMARKS.md");

const DOC_HEADER = `# Benchmarks

Run with \`bun run bench\` (all) or \`bun run bench <name>\` (\`foundation\`, \`http\`, \`flood\`, \`instances\`). Each run
starts the service as a child process (\`bun run src/index.ts\`; two of them for \`instances\`) on 127.0.0.1 against a fresh
PostgreSQL database (\`BENCH_DATABASE_URL\`, default \`postgres://postgres@127.0.0.1:55432/postgres\`),
drives it from a separate load-generator process that also hosts the Telegram Bot API double, and
rewrites its own section below. Benchmarks are bounded in count and time and never run in CI.
Latencies are wall-clock times between two events seen by the load generator (same clock).
CPU is user + system time from \`/proc/<pid>/stat\` over the phase, in % of one core (2 cores = 200%).

Knobs for experiments: \`BENCH_SERVICE_DIR=<checkout>\` runs the service from another directory
(e.g. a scratch copy with a candidate fix), \`BENCH_PROFILE_DIR=<dir>\` makes the service write a
CPU profile (\`.cpuprofile\` and Markdown) on exit, \`BENCH_WRITE=0\` leaves this file alone.
`;

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "—");

/** `12.3 / 45.6 ms` */
export const p50p99 = (s: Summary) => `${fixed(s.p50)} / ${fixed(s.p99)} ms`;

/** `1,234` */
export const count = (value: number) =>
	Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—";

export { fixed };

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
	const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
	return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function machineLines(machine: Machine): string {
	return [
		`- Date: ${machine.date}`,
		`- Command: \`${machine.command}\``,
		`- Machine: ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memory}`,
		`- Bun ${machine.bun}, ${machine.postgres} on the same machine, open-files limit ${machine.openFiles}`,
		`- Code: ${machine.code}`,
	].join("\n");
}

/**
 * Writes `body` as the section `name` of docs/BENCHMARKS.md, replacing an earlier one.
 * BENCH_WRITE=0 leaves the file alone (experiments, e.g. against BENCH_SERVICE_DIR).
 */
export function writeSection(name: string, body: string): boolean {
	if (process.env.BENCH_WRITE === "0") return false;
	const start = `<!-- bench:${name}:start -->`;
	const end = `<!-- bench:${name}:end -->`;
	const section = `${start}\n${body.trim()}\n${end}`;
	let doc = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, "utf8") : DOC_HEADER;
	const from = doc.indexOf(start);
	const to = doc.indexOf(end);
	if (from >= 0 && to > from) doc = doc.slice(0, from) + section + doc.slice(to + end.length);
	else doc = `${doc.trimEnd()}\n\n${section}\n`;
	writeFileSync(DOC_PATH, doc);
	return true;
}

/**
 * A benchmark's last word: prints its report, and writes it to docs/BENCHMARKS.md as the section
 * `name` (heading, then the machine and the command, then the report) unless BENCH_WRITE=0.
 */
export function publishReport(name: string, issue: number, machine: Machine, report: string): void {
	console.log(`\n${report}\n`);
	if (writeSection(name, `## ${name} (issue ${issue})\n\n${machineLines(machine)}\n\n${report}`))
		console.log(`[${name}] section written to docs/BENCHMARKS.md`);
}
