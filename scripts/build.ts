/**
 * `bun run build`: one self-contained executable at dist/topicdesk, with the migrations, the
 * PGlite engine, every text and the browser widget embedded (nothing is read from the source tree
 * at run time). The widget is bundled first and handed to the compiler in place of
 * `src/web/widget-embedded.ts`, whose source copy says "build it at startup".
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildWidget } from "../src/web/widget-build.ts";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "topicdesk");
mkdirSync(join(root, "dist"), { recursive: true });

const widget = await buildWidget();
const result = await Bun.build({
	entrypoints: [join(root, "src/index.ts")],
	compile: { outfile },
	// Names kept: Elysia compiles each handler after reading its source for the context it uses
	// (`{ cookie, headers }`); renamed parameters hide them, and the handler gets no cookie jar.
	minify: { whitespace: true, syntax: true, identifiers: false },
	sourcemap: "inline",
	plugins: [
		{
			name: "embed-widget",
			setup(builder) {
				builder.onLoad({ filter: /[\\/]web[\\/]widget-embedded\.ts$/ }, () => ({
					contents: `export const embeddedWidget = ${JSON.stringify(widget)};`,
					loader: "js",
				}));
			},
		},
	],
});
if (!result.success) {
	for (const log of result.logs) console.error(String(log));
	process.exit(1);
}
console.log(
	`built ${outfile} (widget ${widget.loader.length + widget.chat.length} bytes embedded)`,
);
