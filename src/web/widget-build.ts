/**
 * Bundles the browser widget (`src/widget/main.ts`) into one classic script: an IIFE (a cross-
 * origin `async` script cannot be a module), minified, with its stylesheet minified separately and
 * inlined as a string (`bun build --minify` leaves CSS imported as text untouched).
 *
 * `bun run build` calls this before compiling and embeds the result in the binary
 * (`widget-embedded.ts`); a service run from source calls it once at startup.
 */
import { join } from "node:path";

const WIDGET_DIR = join(import.meta.dir, "..", "widget");

/** The widget's JavaScript, ready to be wrapped and served. */
export async function buildWidget(): Promise<string> {
	const css = await build(join(WIDGET_DIR, "styles.css"));
	const script = await build(join(WIDGET_DIR, "main.ts"), [
		{
			name: "minified-widget-css",
			setup(builder) {
				builder.onLoad({ filter: /[\\/]widget[\\/]styles\.css$/ }, () => ({
					contents: `export default ${JSON.stringify(css.trim())};`,
					loader: "js",
				}));
			},
		},
	]);
	return script.trim();
}

async function build(entry: string, plugins: Bun.BunPlugin[] = []): Promise<string> {
	const result = await Bun.build({
		entrypoints: [entry],
		format: "iife",
		target: "browser",
		minify: true,
		plugins,
	});
	const output = result.outputs[0];
	if (!result.success || !output)
		throw new Error(`widget build failed: ${result.logs.map(String).join("\n")}`);
	return output.text();
}
