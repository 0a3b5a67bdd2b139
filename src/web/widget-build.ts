/**
 * Bundles the browser widget into two classic scripts: the loader (`src/widget/loader.ts`, the
 * file a page embeds, which paints the launcher) and the rest (`src/widget/main.ts`, loaded on
 * the visitor's intent). Each is an IIFE (a cross-origin `async` script cannot be a module),
 * minified, with its stylesheet minified separately and inlined as a string (`bun build
 * --minify` leaves CSS imported as text untouched).
 *
 * `bun run build` calls this before compiling and embeds the result in the binary
 * (`widget-embedded.ts`); a service run from source calls it once at startup.
 */
import { join } from "node:path";

const WIDGET_DIR = join(import.meta.dir, "..", "widget");

export interface WidgetBundle {
	/** Paints the launcher, claims `window.topicdesk`, loads `chat` on intent. */
	loader: string;
	/** Everything else: transport, store, panel. */
	chat: string;
}

/** The widget's two scripts, ready to be wrapped and served. */
export async function buildWidget(): Promise<WidgetBundle> {
	const [loaderCss, chatCss] = await Promise.all([
		build(join(WIDGET_DIR, "launcher.css")),
		build(join(WIDGET_DIR, "styles.css")),
	]);
	const inline = (file: string, css: string): Bun.BunPlugin => ({
		name: "minified-widget-css",
		setup(builder) {
			builder.onLoad({ filter: new RegExp(`[\\\\/]widget[\\\\/]${file}$`) }, () => ({
				contents: `export default ${JSON.stringify(css.trim())};`,
				loader: "js",
			}));
		},
	});
	const [loader, chat] = await Promise.all([
		build(join(WIDGET_DIR, "loader.ts"), [inline("launcher\\.css", loaderCss)]),
		build(join(WIDGET_DIR, "main.ts"), [inline("styles\\.css", chatCss)]),
	]);
	return { loader: loader.trim(), chat: chat.trim() };
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
