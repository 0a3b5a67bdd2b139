/**
 * Bad input from every side: HTML in an operator's reply and in the visitor's own message is
 * shown as text and never runs; a text over 4000 characters is refused before it leaves the
 * browser, with a counter; a hostile host stylesheet changes nothing inside the widget.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { useBrowser } from "./support/browser.ts";
import { useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { until, type Widget, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

const HTML = `<img src=x onerror="window.__pwned=1">`;

const pwned = (page: Page) =>
	page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);

describe("hostile input", () => {
	test("HTML in an operator reply and in the visitor's message is shown as text and never runs", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		const strayRequests: string[] = [];
		page.on("request", (request) => {
			if (/\/x$/.test(new URL(request.url()).pathname)) strayRequests.push(request.url());
		});
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		const mine = `Mine: ${HTML}`;
		await w.send(mine);
		const topicId = await waitForWebCopy(tg, mine);
		const theirs = `Theirs: ${HTML} <b>bold?</b> <script>window.__pwned=2</script>`;
		tg.operatorPosts(topicId, theirs);
		await w.expectOnce(theirs);
		await w.expectOnce(mine);
		expect(await w.log.locator('img[src="x"]').count()).toBe(0);
		expect(await w.log.locator("b, script").count()).toBe(0);
		// A later round trip: had anything been parsed, its error handler had long run.
		await w.send("Still fine?");
		await waitForWebCopy(tg, "Still fine?");
		expect(await pwned(page)).toBeUndefined();
		expect(strayRequests).toEqual([]);
		// After a reload (history instead of live frames) the same holds.
		await page.reload();
		await w.open();
		await w.expectOnce(theirs);
		await w.expectOnce(mine);
		expect(await pwned(page)).toBeUndefined();
		expect(strayRequests).toEqual([]);
	}, 45_000);

	test("over 4000 characters: a counter, and nothing leaves the browser until it is short enough", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("A short one first");
		await waitForWebCopy(tg, "A short one first");

		const sent: string[] = [];
		page.on("request", (request) => {
			if (request.url().includes("/api/chat/message")) sent.push(request.postData() ?? "");
		});
		page.on("websocket", (ws) => {
			ws.on("framesent", (frame) => {
				sent.push(String(frame.payload));
			});
		});
		const long = `${"x".repeat(3991)} the tail!`; // 4001 characters
		expect(long.length).toBe(4001);
		await w.messageBox.fill(long);
		await until(
			async () => {
				const panelText = (await w.panel.textContent()) ?? "";
				expect(panelText).toMatch(/4\s?001\s*\/\s*4\s?000/);
			},
			5000,
			"counter shown",
		);
		await w.sendButton.click({ force: true, timeout: 2000 }).catch(() => undefined);
		await w.messageBox.press("Enter");
		// The visitor's text is kept to be shortened, not shown as a message.
		expect((await w.messageBox.inputValue()).length).toBe(4001);
		expect(await w.log.getByText("the tail!").count()).toBe(0);

		// Shortened to 4000, it goes.
		await w.messageBox.fill(long.slice(1));
		await w.messageBox.press("Enter");
		await waitForWebCopy(tg, long.slice(1));
		expect(sent.filter((s) => s.includes(long))).toEqual([]);
		expect(webCopies(tg, long)).toEqual([]);
	}, 45_000);

	test("a hostile host stylesheet changes nothing inside the widget", async () => {
		const hostile = `<style>
			* { color: red !important; font: 40px serif !important }
			html { font-size: 62.5% !important }
			body { letter-spacing: 5px !important; text-transform: uppercase !important; line-height: 3 !important }
			button, textarea, div, p { padding: 30px !important; border: 5px solid lime !important; box-sizing: content-box !important }
		</style>`;
		const measure = async (w: Widget) => {
			await w.open();
			const style = await w.messageBox.evaluate((box) => {
				const g = globalThis as unknown as {
					getComputedStyle(e: unknown): Record<string, string>;
				};
				const s = g.getComputedStyle(box);
				return {
					color: s.color,
					fontSize: s.fontSize,
					fontFamily: s.fontFamily,
					fontStyle: s.fontStyle,
					letterSpacing: s.letterSpacing,
					textTransform: s.textTransform,
					paddingTop: s.paddingTop,
					borderTopWidth: s.borderTopWidth,
				};
			});
			const launcher = await w.launcher.boundingBox();
			const panel = await w.panel.boundingBox();
			const box = await w.messageBox.boundingBox();
			return { style, launcher, panel, box };
		};
		// Both pages scroll, so both have the same room beside any scrollbar.
		const tall = `<div style="height: 4000px"></div>`;
		// No animation in flight while measuring.
		const plain = await visitor({ reducedMotion: "reduce" });
		await plain.page.goto(stack().shopPage({ body: tall }));
		const reference = await measure(widgetOn(plain.page));

		const attacked = await visitor({ reducedMotion: "reduce" });
		await attacked.page.goto(stack().shopPage({ head: hostile, body: tall }));
		const underAttack = await measure(widgetOn(attacked.page));
		// The page itself did turn red: the stylesheet is live.
		const pageColor = await attacked.page
			.locator("h1")
			.evaluate(
				(h) =>
					(
						globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }
					).getComputedStyle(h).color,
			);
		expect(pageColor).toBe("rgb(255, 0, 0)");
		expect(underAttack).toEqual(reference);
	}, 45_000);
});
