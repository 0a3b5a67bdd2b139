/**
 * What /proc tells about processes: resident memory, CPU time, the open-files limit. Linux only,
 * like the benchmarks.
 */
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** Resident set size in KiB (VmRSS), or NaN when the process is gone. */
export function rssKb(pid: number): number {
	try {
		const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
		return match ? Number(match[1]) : Number.NaN;
	} catch {
		return Number.NaN;
	}
}

/** User + system CPU seconds used so far by one process (0 when it is gone). */
export const cpuSeconds = (pid: number) => statCpuSeconds(String(pid));

/** The same for what `/proc/<path>/stat` describes: a process, or a thread (`<pid>/task/<tid>`). */
function statCpuSeconds(path: string): number {
	try {
		const stat = readFileSync(`/proc/${path}/stat`, "utf8");
		// Fields after the command name, which may contain spaces, closed by the last ')'.
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
	} catch {
		return 0;
	}
}

/**
 * User + system CPU seconds of one process split into its main thread (the thread whose id is
 * the process's) and all its other threads together. The other threads are the process's total
 * less the main thread: the total keeps the time of threads that have ended (a compiler thread
 * that stops when idle), which a sum over the live threads would lose.
 */
export function threadCpuSeconds(pid: number): { main: number; others: number } {
	const main = statCpuSeconds(`${pid}/task/${pid}`);
	return { main, others: Math.max(0, cpuSeconds(pid) - main) };
}

/** Pids of the processes whose command name is `name` (e.g. every PostgreSQL backend). */
export function pidsNamed(name: string): number[] {
	const pids: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
		} catch {}
	}
	return pids;
}

/** CPU seconds used so far by every PostgreSQL process on this machine (the benchmarks' cluster). */
export const postgresCpuSeconds = () =>
	pidsNamed("postgres").reduce((sum, pid) => sum + cpuSeconds(pid), 0);

/** The soft limit on open files of this process. */
export function openFilesLimit(): number {
	const match = /^Max open files\s+(\d+|unlimited)/m.exec(
		readFileSync("/proc/self/limits", "utf8"),
	);
	return !match || match[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** CPU seconds of named groups of processes, sampled at the start and end of a phase. */
export class CpuMeter {
	private readonly start: Map<string, number>;
	private readonly startedAt = performance.now();

	constructor(private readonly groups: () => Record<string, number[]>) {
		this.start = this.sample();
	}

	private sample() {
		const totals = new Map<string, number>();
		for (const [name, pids] of Object.entries(this.groups())) {
			totals.set(
				name,
				pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
			);
		}
		return totals;
	}

	/** Per group: the share of one core used since construction, in percent. */
	read(): Record<string, number> {
		const wall = (performance.now() - this.startedAt) / 1000;
		const shares: Record<string, number> = {};
		for (const [name, total] of this.sample())
			shares[name] = ((total - (this.start.get(name) ?? 0)) / wall) * 100;
		return shares;
	}
}
