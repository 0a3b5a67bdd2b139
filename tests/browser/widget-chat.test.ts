/**
 * The widget embedded on a customer's site (a different site than the service), as a visitor
 * uses it: the launcher, no session for a mere page view, send → topic, a reply live, the unread
 * badge; one widget even when the snippet is pasted twice; the JavaScript API.
 */
import { describe, expect, test } from "bun:test";
import { useBrowser } from "./support/browser.ts";
import { sessionCount, useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { isFocused, until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

describe("embedded on a shop", () => {
	test("a page view shows the launcher and creates no session", async () => {
		const { page } = await visitor();
		const apiCalls: string[] = [];
		page.on("request", (request) => {
			if (request.url().includes("/api/chat/")) apiCalls.push(request.url());
		});
		const before = await sessionCount(stack().service);
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		expect(await w.launcher.getAttribute("aria-expanded")).toBe("false");
		// The observable end of the widget's start: no request for half a second.
		await page.waitForLoadState("networkidle");
		expect(apiCalls.filter((url) => url.includes("/api/chat/init"))).toEqual([]);
		expect(await sessionCount(stack().service)).toBe(before);
		expect(await w.panel.isVisible()).toBe(false);
	}, 30_000);

	test("open, send → Sent and in the topic; a reply appears live; the unread badge on the closed launcher clears on open", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		expect(await w.launcher.getAttribute("aria-expanded")).toBe("true");
		await w.panel.waitFor({ state: "visible" });

		await w.send("Where is my blue kettle?");
		const topicId = await waitForWebCopy(tg, "Where is my blue kettle?");
		expect(webCopies(tg, "Where is my blue kettle?")).toHaveLength(1);

		tg.operatorPosts(topicId, "It ships tomorrow morning.");
		await w.expectOnce("It ships tomorrow morning.");
		// The status follows the reply, in words.
		await w.inPanel(w.t.status.inProgress).waitFor({ state: "visible", timeout: 10_000 });

		await w.closeButton.click();
		await w.panel.waitFor({ state: "hidden" });
		await until(
			async () => {
				expect(await w.launcher.getAttribute("aria-expanded")).toBe("false");
				expect(await isFocused(w.launcher)).toBe(true);
			},
			3000,
			"launcher collapsed and focused",
		);

		tg.operatorPosts(topicId, "Tracking number: 42.");
		const badged = page.getByRole("button", { name: w.t.unread(1), exact: true });
		await badged.waitFor({ state: "visible", timeout: 10_000 });

		await badged.click();
		await w.messageBoxFocused();
		await w.expectOnce("Tracking number: 42.");
		await until(async () => {
			expect(await page.getByRole("button", { name: w.t.launcher, exact: true }).count()).toBe(1);
		});
	}, 45_000);

	test("the snippet pasted twice gives one launcher; window.topicdesk opens, closes and reports messages", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		const tag = stack().scriptTag();
		await page.goto(stack().shopPage({ head: tag }));
		const w = widgetOn(page);
		await w.launcherShown();
		await page.waitForLoadState("networkidle");
		expect(await w.launcher.count()).toBe(1);
		const api = await page.evaluate(() => {
			const td = (globalThis as unknown as { topicdesk?: Record<string, unknown> }).topicdesk;
			return td ? ["open", "close", "toggle", "on"].map((k) => typeof td[k]) : [];
		});
		expect(api).toEqual(["function", "function", "function", "function"]);

		// Subscribe to `message`, open through the API, talk, and close through the API.
		await page.evaluate(() => {
			type Td = { on(event: string, fn: (value: unknown) => void): () => void };
			const g = globalThis as unknown as { topicdesk: Td; __seen: unknown[] };
			g.__seen = [];
			g.topicdesk.on("message", (m) => g.__seen.push(m));
		});
		await page.evaluate(() =>
			(globalThis as unknown as { topicdesk: { open(): void } }).topicdesk.open(),
		);
		await w.messageBoxFocused();
		await w.send("Opened through the API");
		const topicId = await waitForWebCopy(tg, "Opened through the API");
		tg.operatorPosts(topicId, "Seen by the API listener");
		await w.expectOnce("Seen by the API listener");
		await until(async () => {
			const texts = await page.evaluate(() =>
				(globalThis as unknown as { __seen: { text?: string }[] }).__seen.map((m) => m.text),
			);
			expect(texts).toContain("Seen by the API listener");
		});
		await page.evaluate(() =>
			(globalThis as unknown as { topicdesk: { close(): void } }).topicdesk.close(),
		);
		await w.panel.waitFor({ state: "hidden" });
		// Two copies of the script, one conversation: the message went to the topic once.
		expect(webCopies(tg, "Opened through the API")).toHaveLength(1);
	}, 45_000);
});
