/**
 * Reads JUnit reports written by `bun test --reporter=junit` and prints the closing line CI reads:
 * "N passed, N failed". Exits 1 when a test failed or a report is missing (a run that crashed).
 * Each failed or skipped test is named above that line, with its file and the start of its
 * failure, because CI keeps only the end of a long log and a flaky failure must be findable.
 */
import { existsSync, readFileSync } from "node:fs";

/** What the report says of one test case; the attributes bun writes, XML entities decoded. */
type Case = { name: string; where: string; failure: string | undefined; skipped: boolean };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decode = (text: string) =>
	text.replace(/&(?:#(\d+)|(amp|lt|gt|quot|apos));/g, (_, code, name) =>
		code ? String.fromCharCode(Number(code)) : (ENTITIES[name] ?? ""),
	);
const attribute = (tag: string, name: string) =>
	decode(tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1] ?? "");

function* cases(xml: string): Generator<Case> {
	for (const match of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
		const tag = match[1] ?? "";
		const inner = match[3] ?? "";
		const failure = inner.match(/<(failure|error)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/);
		yield {
			name: attribute(tag, "name"),
			// The file, then the describe block the test is in (bun writes it as the class name).
			where: [attribute(tag, "file"), attribute(tag, "classname")].filter(Boolean).join(" > "),
			// The body holds the error's type, message and stack; an empty failure has only its message.
			failure: failure
				? decode(failure[4]?.trim() || attribute(failure[2] ?? "", "message"))
				: undefined,
			skipped: /<skipped\b/.test(inner),
		};
	}
}

let passed = 0;
let failed = 0;
for (const path of process.argv.slice(2)) {
	if (!existsSync(path)) {
		console.error(`missing report: ${path}`);
		failed++;
		continue;
	}
	for (const test of cases(readFileSync(path, "utf8"))) {
		if (test.failure === undefined && !test.skipped) {
			passed++;
			continue;
		}
		failed++; // nothing may be skipped
		const why = test.skipped
			? "skipped"
			: (test.failure ?? "").split("\n").slice(0, 10).join("\n    ");
		console.log(`FAILED ${test.where} > ${test.name} (${path})\n    ${why}`);
	}
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
