/**
 * `bun run build`: one self-contained executable at dist/topicdesk, with the migrations, the
 * PGlite engine and every text embedded (nothing is read from the source tree at run time).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "topicdesk");
mkdirSync(join(root, "dist"), { recursive: true });
const result = Bun.spawnSync(
	[
		"bun",
		"build",
		"--compile",
		"--minify",
		"--sourcemap",
		join(root, "src/index.ts"),
		"--outfile",
		outfile,
	],
	{ cwd: root, stdout: "inherit", stderr: "inherit" },
);
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
console.log(`built ${outfile}`);
