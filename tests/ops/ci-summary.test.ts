/**
 * CI's closing line (`scripts/junit-summary.ts`): counted from the JUnit report `bun test` really
 * writes, with every failed or skipped test named above it, and a missing report counted as a
 * failure, so a red CI says which test to look at.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/process.ts";
import { root } from "./cli.ts";

/**
 * A test file written to a temporary directory and run there, never part of this suite: it holds
 * one of each outcome the summary must tell apart, including a test that does not run: the run
 * below leaves it out with a name filter (`-t`), which bun's JUnit report marks as skipped, and
 * CI must count as failed.
 */
const FIXTURE = `import { describe, expect, test } from "bun:test";
test("adds", () => expect(1 + 1).toBe(2));
test("compares <tags> & quotes", () => expect({ a: 1 }).toEqual({ a: 2 }));
describe("a block", () => {
	test("throws", () => {
		throw new Error('boom "quoted"');
	});
});
test("left out by the name filter", () => {});
`;

async function run(command: string[], cwd: string) {
	const proc = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
	const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
	return { stdout, code };
}

test("the summary counts bun's JUnit report and names each failed test with its failure", async () => {
	const dir = tempDir("topicdesk-junit-");
	writeFileSync(join(dir, "fixture.test.ts"), FIXTURE);
	const report = join(dir, "report.xml");
	const tests = await run(
		[
			"bun",
			"test",
			"-t",
			"adds|compares|throws",
			"--reporter=junit",
			`--reporter-outfile=${report}`,
		],
		dir,
	);
	expect(tests.code).not.toBe(0);

	const summary = await run(
		["bun", "run", join(root, "scripts/junit-summary.ts"), report, join(dir, "missing.xml")],
		root,
	);
	expect(summary.code).toBe(1);
	const lines = summary.stdout.trimEnd().split("\n");
	expect(lines.at(-1)).toBe("1 passed, 4 failed");
	const named = lines.filter((line) => line.startsWith("FAILED "));
	expect(named).toEqual([
		`FAILED fixture.test.ts > compares <tags> & quotes (${report})`,
		`FAILED fixture.test.ts > a block > throws (${report})`,
		`FAILED fixture.test.ts > left out by the name filter (${report})`,
	]);
	// The failure's own words follow its name, entities decoded, so the log shows what broke.
	expect(summary.stdout).toContain('-   "a": 2,');
	expect(summary.stdout).toContain('Error: boom "quoted"');
	expect(summary.stdout).toContain("    skipped");
});

test("a clean report passes with exit 0", async () => {
	const dir = tempDir("topicdesk-junit-");
	writeFileSync(join(dir, "fixture.test.ts"), FIXTURE.split("\n").slice(0, 2).join("\n"));
	const report = join(dir, "report.xml");
	expect(
		(await run(["bun", "test", "--reporter=junit", `--reporter-outfile=${report}`], dir)).code,
	).toBe(0);
	const summary = await run(["bun", "run", join(root, "scripts/junit-summary.ts"), report], root);
	expect({ code: summary.code, out: summary.stdout }).toEqual({
		code: 0,
		out: "1 passed, 0 failed\n",
	});
});
