/**
 * What a page view costs and keeps: the page loads only the loader (at most 5,120 bytes on the
 * wire); the rest (at most 16 KB) comes from an immutable URL when the visitor shows intent, and
 * the click that caused the load opens the panel by itself. Nothing goes to cookies or storage
 * before the visitor opens the chat, and `topicdesk.consent(false)` keeps storage empty for good.
 */
import { describe, expect, test } from "bun:test";
import type { BrowserContext, Page, Response } from "playwright-core";
import { useBrowser } from "./support/browser.ts";
import { useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

/** Scripts the page fetched from the service, with their size on the wire (gzip). */
function watchScripts(page: Page) {
	const seen: { path: string; response: Response }[] = [];
	page.on("response", (response) => {
		const url = new URL(response.url());
		if (response.request().resourceType() === "script" && url.host.startsWith("chat.test"))
			seen.push({ path: url.pathname, response });
	});
	return {
		paths: () => seen.map((s) => s.path),
		chat: () => seen.find((s) => s.path.startsWith("/widget/chat.")),
		loader: () => seen.find((s) => s.path === "/widget.js"),
		async wireSize(entry: { response: Response }) {
			await entry.response.finished();
			return (await entry.response.request().sizes()).responseBodySize;
		},
	};
}

/** Everything the page keeps: both storages of the shop's origin and every cookie. */
async function kept(page: Page, context: BrowserContext) {
	const storage = await page.evaluate(() => {
		const g = globalThis as unknown as { localStorage: Storage; sessionStorage: Storage };
		const all = (s: Storage) => Object.fromEntries(Object.entries(s));
		return { local: all(g.localStorage), session: all(g.sessionStorage) };
	});
	return { ...storage, cookies: (await context.cookies()).map((c) => `${c.domain} ${c.name}`) };
}

describe("the loader", () => {
	test("a page view fetches only the loader (≤ 5,120 bytes gzipped); a click fetches the rest (≤ 16 KB gzipped, immutable) and that one click opens the panel", async () => {
		const { page } = await visitor();
		const scripts = watchScripts(page);
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		await page.waitForLoadState("networkidle");
		expect(scripts.paths()).toEqual(["/widget.js"]);
		const loader = scripts.loader();
		if (!loader) throw new Error("the loader was not fetched");
		expect(await loader.response.headerValue("content-encoding")).toBe("gzip");
		expect(await scripts.wireSize(loader)).toBeLessThanOrEqual(5120);
		expect(await w.panel.count()).toBe(0);

		// One click: the pointer arriving and pressing starts the load, the click opens.
		await w.launcher.click();
		await w.messageBoxFocused();
		expect(await w.launcher.getAttribute("aria-expanded")).toBe("true");
		const chat = scripts.chat();
		if (!chat) throw new Error("the rest of the widget was not fetched");
		expect(chat.path).toMatch(/^\/widget\/chat\.[0-9a-f]{16}\.js$/);
		expect(await chat.response.headerValue("cache-control")).toBe(
			"public, max-age=31536000, immutable",
		);
		expect(await scripts.wireSize(chat)).toBeLessThanOrEqual(16 * 1024);
		expect(scripts.paths().filter((p) => p.startsWith("/widget/chat."))).toHaveLength(1);
	}, 45_000);

	test("keyboard focus on the launcher fetches the rest; Enter then opens", async () => {
		const { page } = await visitor();
		const scripts = watchScripts(page);
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		await w.launcher.focus();
		await until(() => expect(scripts.chat()).toBeDefined(), 10_000, "the rest fetched on focus");
		expect(await w.panel.isVisible()).toBe(false);
		await page.keyboard.press("Enter");
		await w.messageBoxFocused();
	}, 45_000);

	test("API calls made before the rest arrived are replayed in order: open, then close", async () => {
		const { page } = await visitor();
		const scripts = watchScripts(page);
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		await page.evaluate(() => {
			type Td = { open(): void; on(e: string, fn: () => void): () => void };
			const g = globalThis as unknown as { topicdesk: Td; __events: string[] };
			g.__events = [];
			g.topicdesk.on("open", () => g.__events.push("open"));
			g.topicdesk.on("close", () => g.__events.push("close"));
			g.topicdesk.open();
			(g.topicdesk as unknown as { close(): void }).close();
		});
		await until(
			async () =>
				expect(
					await page.evaluate(() => (globalThis as unknown as { __events: string[] }).__events),
				).toEqual(["open", "close"]),
			10_000,
			"open then close replayed",
		);
		expect(scripts.chat()).toBeDefined();
		expect(await w.panel.isVisible()).toBe(false);
	}, 45_000);
});

describe("nothing stored before intent", () => {
	test("hover and focus store nothing (no cookie, no localStorage, no sessionStorage); opening stores the session; the next page view loads the rest at once", async () => {
		const { page, context } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		await w.launcher.hover();
		await w.launcher.focus();
		await page.waitForLoadState("networkidle");
		expect(await kept(page, context)).toEqual({ local: {}, session: {}, cookies: [] });

		await w.open();
		await w.send("Storing starts now");
		await waitForWebCopy(stack().tg, "Storing starts now");
		const after = await kept(page, context);
		expect(Object.keys(after.local)).toContain("topicdesk:session");
		expect(after.session).toEqual({});

		// A stored conversation: the next page view fetches the rest without waiting for intent.
		const scripts = watchScripts(page);
		await page.reload();
		await w.launcherShown();
		await until(() => expect(scripts.chat()).toBeDefined(), 10_000, "the rest fetched at once");
	}, 45_000);

	test("topicdesk.consent(false): the chat works and storage stays empty; a stored conversation is forgotten, this page view goes on", async () => {
		const { tg } = stack();
		const { page, context } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		await w.open();
		await w.send("Before consent was withdrawn");
		const topicId = await waitForWebCopy(tg, "Before consent was withdrawn");
		expect(Object.keys((await kept(page, context)).local)).toContain("topicdesk:session");

		await page.evaluate(() =>
			(globalThis as unknown as { topicdesk: { consent(v: boolean): void } }).topicdesk.consent(
				false,
			),
		);
		expect((await kept(page, context)).local).toEqual({});
		// The same conversation, from memory.
		await w.send("After consent was withdrawn");
		expect(await waitForWebCopy(tg, "After consent was withdrawn")).toBe(topicId);
		tg.operatorPosts(topicId, "Still here");
		await w.expectOnce("Still here");
		await w.closeButton.click();
		// The service's own session cookie, set when the chat opened, is the one thing allowed.
		expect(await kept(page, context)).toMatchObject({ local: {}, session: {} });
		expect(webCopies(tg, "After consent was withdrawn")).toHaveLength(1);
	}, 45_000);

	test('consent(false) before the chat is opened (data-consent="false"): nothing is ever stored', async () => {
		const { tg } = stack();
		const { page, context } = await visitor();
		await page.goto(stack().shopPage({ data: { consent: "false" } }));
		const w = widgetOn(page);
		await w.open();
		await w.send("No storage at all");
		await waitForWebCopy(tg, "No storage at all");
		expect(await kept(page, context)).toMatchObject({ local: {}, session: {} });
	}, 45_000);
});
