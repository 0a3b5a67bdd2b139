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

\`bun run bench\` runs them all, \`bun run bench <name>…\` the ones named. Each starts the service as
\`bun start\` does (\`bun run src/index.ts\`; two for \`instances\`) on 127.0.0.1 against a fresh
PostgreSQL database (\`BENCH_DATABASE_URL\`, default \`postgres://postgres@127.0.0.1:55432/postgres\`;
\`widget\` on PGlite), drives it from a load-generator process that also hosts the Telegram Bot API
double, and rewrites its own section below (between its \`bench:<name>\` markers). Bounded in count
and time, never in CI. Latencies are wall-clock between two events the load generator sees; CPU is
user + system time from \`/proc/<pid>/stat\` (PostgreSQL: every process of its cluster). Knobs:
\`BENCH_SERVICE_DIR=<checkout>\` (the service from elsewhere), \`BENCH_PROFILE_DIR=<dir>\` (a CPU
profile), \`BENCH_WRITE=0\` (leave this file alone), \`BENCH_KEEP_DB=1\`; \`MIMALLOC_*\`, \`BUN_*\`,
\`JSC_*\` reach the service; a script's own knobs are at its top in \`bench/\`. Earlier results are
in the git history of this file.
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

/** One line: the code, the date, the command and the machine a result belongs to. */
export function machineLines(machine: Machine): string {
	return `- Code ${machine.code}, ${machine.date}, \`${machine.command}\`; ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memory}; Bun ${machine.bun}, ${machine.postgres} on the same machine, open-files limit ${machine.openFiles}`;
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
 * `name` (heading, then the code, command and machine in one line, then the report) unless
 * BENCH_WRITE=0.
 */
export function publishReport(name: string, machine: Machine, report: string): void {
	console.log(`\n${report}\n`);
	if (writeSection(name, `## ${name}\n\n${machineLines(machine)}\n\n${report}`))
		console.log(`[${name}] section written to docs/BENCHMARKS.md`);
}
