/**
 * Runs topicdesk's command line as a child process, the way an operator does.
 */
import { join } from "node:path";

export const root = join(import.meta.dir, "..", "..");
export const entry = join(root, "src/index.ts");

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

/** `bun run src/index.ts <args>` with exactly `env` (plus PATH and HOME). */
export async function runCommand(args: string[], env: Record<string, string>): Promise<CliResult> {
	const proc = Bun.spawn(["bun", "run", entry, ...args], {
		env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
	});
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { code, stdout, stderr };
}
