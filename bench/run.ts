/**
 * `bun run bench [name…]`: runs the named benchmarks (default: all), one after another, each as
 * its own load-generator process with the open-files limit raised as far as the shell allows.
 */
import { resolve } from "node:path";

const BENCHMARKS = {
	foundation: "bench/foundation.ts",
	http: "bench/http.ts",
	flood: "bench/flood.ts",
	instances: "bench/instances.ts",
	widget: "bench/widget.ts",
	claims: "bench/claims.ts",
	delivery: "bench/delivery.ts",
	idle: "bench/idle.ts",
	uploads: "bench/uploads.ts",
	recovery: "bench/recovery.ts",
	rates: "bench/rates.ts",
	stats: "bench/stats.ts",
	groups: "bench/groups.ts",
} as const;
type Name = keyof typeof BENCHMARKS;

const isName = (name: string): name is Name => Object.hasOwn(BENCHMARKS, name);

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !isName(name));
if (unknown.length > 0) {
	console.error(
		`unknown benchmark ${unknown.join(", ")}; choose from: ${Object.keys(BENCHMARKS).join(", ")}`,
	);
	process.exit(2);
}
const names: Name[] =
	requested.length > 0 ? requested.filter(isName) : Object.keys(BENCHMARKS).filter(isName);

const root = resolve(import.meta.dir, "..");
let failed = 0;
for (const name of names) {
	const command = `bun run bench ${name}`;
	console.log(`\n=== ${command}`);
	// 65,536 when permitted, else the hard limit; the benchmark scales to what it gets.
	const script = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec bun ${BENCHMARKS[name]}`;
	const child = Bun.spawn(["bash", "-c", script], {
		cwd: root,
		env: { ...process.env, BENCH_COMMAND: command },
		stdio: ["inherit", "inherit", "inherit"],
	});
	const code = await child.exited;
	if (code !== 0) {
		console.error(`=== ${name} failed (exit ${code})`);
		failed++;
	}
}
process.exit(failed > 0 ? 1 : 0);
