/**
 * Enforces line coverage of src/ as a whole from an lcov report: `bun run scripts/coverage-check.ts
 * <lcov.info> <min percent>`. Prints the total and exits 1 below the minimum.
 */
import { readFileSync } from "node:fs";

const [path = "coverage/lcov.info", minimum = "80"] = process.argv.slice(2);
let found = 0;
let hit = 0;
let inSource = false;
for (const line of readFileSync(path, "utf8").split("\n")) {
	if (line.startsWith("SF:")) inSource = /(^|\/)src\//.test(line.slice(3));
	else if (inSource && line.startsWith("LF:")) found += Number(line.slice(3));
	else if (inSource && line.startsWith("LH:")) hit += Number(line.slice(3));
}
const percent = found === 0 ? 0 : (hit / found) * 100;
console.log(
	`line coverage of src/: ${percent.toFixed(2)}% (${hit}/${found} lines), minimum ${minimum}%`,
);
process.exit(percent >= Number(minimum) ? 0 : 1);
