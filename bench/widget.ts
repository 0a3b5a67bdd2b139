/**
 * Benchmark "widget": what the widget costs a site's visitors.
 *
 * 1. Size of the served scripts (JS and CSS together, the CSS is inlined), raw and gzip -9: the
 *    loader every page view fetches, and the rest it fetches on the visitor's intent.
 * 2. In headless Chromium, on a shop page served from another site than the service: the time
 *    from the loader's bytes having arrived (Resource Timing `responseEnd`) to the launcher
 *    painted (the frame after it exists), and from a click on the launcher to the message box
 *    focused and painted, with a cold cache: the click fetches the rest (no hover before it) and
 *    the session is created on it, as for a first-time visitor.
 *
 * The service runs as a child process on the embedded database (no PostgreSQL needed): the
 * widget's numbers do not depend on the database beyond one `init`.
 */
import { chromium } from "playwright-core";
import { spawnService, tempDir } from "../tests/support/process.ts";
import { summarize } from "./support/clock.ts";
import { describeMachine } from "./support/machine.ts";
import { count, fixed, machineLines, table, writeSection } from "./support/report.ts";
import { serviceDir } from "./support/service.ts";

const RUNS = 30;
const log = (line: string) => console.log(`[widget] ${line}`);

const service = await spawnService(
	["bun", "run", "src/index.ts"],
	{
		NODE_ENV: "development",
		LOG_LEVEL: "warn",
		DATA_DIR: tempDir("topicdesk-bench-widget-"),
		ALLOWED_ORIGINS: "shop.test",
	},
	{ cwd: serviceDir, readyPath: "/health/ready", timeoutMs: 60_000 },
);
const servicePort = new URL(service.url).port;

const fetchBytes = async (path: string) =>
	new Uint8Array(
		await (
			await fetch(`${service.url}${path}`, { headers: { "accept-encoding": "identity" } })
		).arrayBuffer(),
	);
const gzip = (bytes: Uint8Array<ArrayBuffer>) => Bun.gzipSync(bytes, { level: 9 }).length;
const script = await fetchBytes("/widget.js");
const chatPath = new TextDecoder().decode(script).match(/"chat":"([^"]+)"/)?.[1];
if (!chatPath) throw new Error("the loader names no rest");
const chat = await fetchBytes(chatPath);
const gzipped = gzip(script);
const chatGzipped = gzip(chat);
log(
	`loader ${script.length} bytes, gzip -9 ${gzipped}; rest ${chat.length} bytes, gzip -9 ${chatGzipped}`,
);

const shop = Bun.serve({
	port: 0,
	hostname: "127.0.0.1",
	fetch: () =>
		new Response(
			`<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>
<script src="http://chat.test:${servicePort}/widget.js" async></script></body></html>`,
			{ headers: { "content-type": "text/html; charset=utf-8" } },
		),
});

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
	args: ["--no-sandbox", `--host-resolver-rules=MAP shop.test 127.0.0.1, MAP chat.test 127.0.0.1`],
});

// Runs in the page before its scripts: notes the first frame painted with the launcher in it.
const WATCH_LAUNCHER = `(() => {
	const look = () => {
		const root = document.querySelector("topicdesk-widget")?.shadowRoot;
		if (root && root.querySelector("button")) {
			requestAnimationFrame(() => { window.__launcherPainted = performance.now(); });
			return;
		}
		requestAnimationFrame(look);
	};
	requestAnimationFrame(look);
})();`;

const CLICK_TO_READY = `new Promise((resolve) => {
	const root = document.querySelector("topicdesk-widget").shadowRoot;
	const launcher = root.querySelector("button");
	const started = performance.now();
	launcher.click();
	const look = () => {
		const box = root.activeElement;
		if (box && box.tagName === "TEXTAREA" && !box.disabled)
			requestAnimationFrame(() => resolve(performance.now() - started));
		else requestAnimationFrame(look);
	};
	look();
})`;

const toLauncher: number[] = [];
const toReady: number[] = [];
const cached: number[] = [];
try {
	for (let run = 0; run < RUNS; run++) {
		const context = await browser.newContext();
		const page = await context.newPage();
		await page.addInitScript(WATCH_LAUNCHER);
		const measure = async () => {
			await page.goto(`http://shop.test:${shop.port}/`);
			await page.waitForFunction("window.__launcherPainted !== undefined");
			return page.evaluate(`(() => {
				const entry = performance.getEntriesByType("resource").find((e) => e.name.includes("/widget.js"));
				return window.__launcherPainted - entry.responseEnd;
			})()`) as Promise<number>;
		};
		toLauncher.push(await measure());
		toReady.push((await page.evaluate(CLICK_TO_READY)) as number);
		// A second page view in the same browser: the script comes from the HTTP cache.
		cached.push(await measure());
		await context.close();
	}
} finally {
	await browser.close();
	shop.stop(true);
	await service.stop();
}

const row = (name: string, values: number[]) => {
	const s = summarize(values);
	return [name, `${fixed(s.p50)} ms`, `${fixed(s.p99)} ms`, `${fixed(s.max)} ms`];
};
const machine = describeMachine(serviceDir, "embedded PGlite");
const chromiumVersion = Bun.spawnSync([
	process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
	"--version",
])
	.stdout.toString()
	.trim();
const body = `## widget

${machineLines(machine)}
- Browser: ${chromiumVersion}, headless, driven by playwright-core; shop page on \`shop.test\`, service on \`chat.test\` (both 127.0.0.1 through \`--host-resolver-rules\`)

The loader a page fetches holds its JavaScript and the launcher's minified CSS: **${count(script.length)} bytes, ${count(gzipped)} bytes with gzip -9** (budget 5,120). The rest of the widget, fetched from an immutable URL on the visitor's intent: **${count(chat.length)} bytes, ${count(chatGzipped)} bytes with gzip -9** (budget 16,384). The service sends the gzip-9 bytes to browsers that accept gzip; tests fail CI when a budget is exceeded.

${RUNS} page views, each in a fresh browser context (a first-time visitor), then a second view of the same page (script from the HTTP cache):

${table(
	["measure", "p50", "p99", "max"],
	[
		row("loader arrived → launcher painted", toLauncher),
		row(
			"click on the launcher → message box focused and painted (cold cache: fetches the rest, creates the session)",
			toReady,
		),
		row("second page view: loader arrived → launcher painted", cached),
	],
)}
`;
console.log(body);
if (writeSection("widget", body)) log("written to docs/BENCHMARKS.md");
