/**
 * Chromium for the browser tests: one browser per test file, a fresh context (a fresh visitor)
 * per test. Every page opened in a visitor's context is watched: an uncaught exception or a
 * console error fails the test that caused it (checked in `afterEach`), except a favicon 404 and
 * whatever the test itself declared expected (e.g. the browser's own "Failed to load resource"
 * lines while the test cuts the network on purpose).
 */
import { afterAll, afterEach, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import {
	type Browser,
	type BrowserContext,
	type BrowserContextOptions,
	type ConsoleMessage,
	chromium,
	type LaunchOptions,
	type Page,
} from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The host site and the service are two different sites, both on loopback. */
export const HOST_RULES = "MAP shop.test 127.0.0.1, MAP chat.test 127.0.0.1";

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
	if (!existsSync(CHROMIUM_PATH)) {
		throw new Error(
			`Chromium not found at ${CHROMIUM_PATH}. The browser tests need Debian's chromium ` +
				"(apt-get install -y chromium; .ci/run installs it) or CHROMIUM_PATH pointing at a Chromium binary.",
		);
	}
	return chromium.launch({
		executablePath: CHROMIUM_PATH,
		headless: true,
		...options,
		args: ["--no-sandbox", `--host-resolver-rules=${HOST_RULES}`, ...(options.args ?? [])],
	});
}

export interface Visitor {
	context: BrowserContext;
	page: Page;
	/** Problems seen so far on any page of this visitor: page errors and console errors. */
	problems: string[];
	/** Console errors matching one of these are expected by the test (and not reported). */
	expectConsole(pattern: RegExp): void;
	/** A new tab in the same context (same storage, same visitor). */
	newPage(): Promise<Page>;
}

const isFavicon404 = (message: ConsoleMessage) =>
	/favicon\.ico/.test(message.location().url ?? "") || /favicon/.test(message.text());

const watched = new WeakSet<Page>();

function watch(page: Page, problems: string[], expected: RegExp[]) {
	if (watched.has(page)) return;
	watched.add(page);
	page.on("pageerror", (error) => {
		problems.push(`pageerror on ${page.url()}: ${error.stack ?? error.message}`);
	});
	// A script that fails to load (404, 500, blocked) prints nothing to the console by itself.
	page.on("requestfailed", (request) => {
		if (request.resourceType() !== "script") return;
		problems.push(`script failed to load: ${request.url()} (${request.failure()?.errorText})`);
	});
	page.on("response", (response) => {
		if (response.request().resourceType() !== "script" || response.status() < 400) return;
		problems.push(`script answered ${response.status()}: ${response.url()}`);
	});
	page.on("console", (message) => {
		if (message.type() !== "error") return;
		if (isFavicon404(message)) return;
		const text = message.text();
		if (expected.some((pattern) => pattern.test(text))) return;
		const where = message.location().url ?? "";
		problems.push(`console error on ${page.url()}: ${text}${where ? ` (${where})` : ""}`);
	});
}

/**
 * One browser for the file (with `launch` options, e.g. bfcache left on), launched before its
 * tests; `visitor()` makes a fresh context whose pages are watched; after each test its contexts
 * close and any problem fails the test.
 */
export function useBrowser(launch: LaunchOptions = {}): {
	browser: () => Browser;
	visitor: (options?: BrowserContextOptions) => Promise<Visitor>;
} {
	let browser: Browser | undefined;
	let visitors: Visitor[] = [];
	beforeAll(async () => {
		browser = await launchBrowser(launch);
	}, 30_000);
	afterAll(async () => {
		await browser?.close();
	}, 30_000);
	afterEach(async () => {
		const done = visitors;
		visitors = [];
		const problems = done.flatMap((v) => v.problems);
		await Promise.all(done.map((v) => v.context.close().catch(() => undefined)));
		if (problems.length) {
			throw new Error(`the page reported errors:\n${problems.join("\n")}`);
		}
	}, 30_000);
	const get = () => {
		if (!browser) throw new Error("the browser is not launched");
		return browser;
	};
	return {
		browser: get,
		async visitor(options: BrowserContextOptions = {}) {
			const context = await get().newContext({
				viewport: { width: 1280, height: 800 },
				...options,
			});
			const problems: string[] = [];
			const expected: RegExp[] = [];
			context.on("page", (page) => watch(page, problems, expected));
			const page = await context.newPage();
			watch(page, problems, expected);
			const visitor: Visitor = {
				context,
				page,
				problems,
				expectConsole(pattern) {
					expected.push(pattern);
				},
				newPage: () => context.newPage(),
			};
			visitors.push(visitor);
			return visitor;
		},
	};
}

/** The lines Chromium itself prints when a request fails or a socket cannot connect. */
export const NETWORK_FAILURE_LINES = [
	/^Failed to load resource: net::ERR_/,
	/^WebSocket connection to '.*' failed/,
];
