/**
 * Reads JUnit reports written by `bun test --reporter=junit` and prints the closing line CI reads:
 * "N passed, N failed". Exits 1 when a test failed or a report is missing (a run that crashed).
 */
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
for (const path of process.argv.slice(2)) {
	if (!existsSync(path)) {
		console.error(`missing report: ${path}`);
		failed++;
		continue;
	}
	const xml = readFileSync(path, "utf8");
	for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
		const inner = match[2] ?? "";
		if (/<(failure|error)\b/.test(inner)) failed++;
		else if (/<skipped\b/.test(inner))
			failed++; // nothing may be skipped
		else passed++;
	}
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
