/**
 * The widget on a phone, in Chromium's mobile emulation (390 × 844, touch): full screen and
 * modal, inputs at 16 px or more (no iOS zoom), tap targets of 24 × 24 px at least, the message
 * box above the on-screen keyboard (the visual viewport shrinking), clear of the notch and home
 * indicator, the page behind held still, and the back gesture closing it. A failing test leaves
 * a screenshot in test-artifacts/browser/.
 */
import { describe, expect, test } from "bun:test";
import type { BrowserContextOptions, Page } from "playwright-core";
import { screenshotOnFailure } from "./support/artifacts.ts";
import { describeViolations, seriousViolations } from "./support/axe.ts";
import { useBrowser } from "./support/browser.ts";
import { controls } from "./support/geometry.ts";
import { useStack } from "./support/stack.ts";
import { waitForWebCopy } from "./support/topic.ts";
import { isFocused, until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

const PHONE: BrowserContextOptions = {
	viewport: { width: 390, height: 844 },
	isMobile: true,
	hasTouch: true,
};

const viewport = (page: Page) =>
	page.evaluate("({ top: visualViewport.offsetTop, height: visualViewport.height })") as Promise<{
		top: number;
		height: number;
	}>;

describe("phone", () => {
	test("390×844 touch: a tap opens it full screen and modal; inputs ≥ 16 px; every tap target ≥ 24×24; axe clean closed and open", async () => {
		const { tg } = stack();
		const { page } = await visitor(PHONE);
		await screenshotOnFailure(page, "phone-layout", async () => {
			await page.goto(stack().shopPage());
			const w = widgetOn(page);
			await w.launcherShown();
			const closed = await seriousViolations(page);
			expect(closed, describeViolations(closed)).toEqual([]);

			await w.launcher.tap();
			await w.messageBoxFocused();
			expect(await w.panel.getAttribute("aria-modal")).toBe("true");
			expect(await w.panel.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 844 });

			await w.send("Typed on a phone");
			const topicId = await waitForWebCopy(tg, "Typed on a phone");
			tg.operatorPosts(topicId, "Answered to a phone, see https://example.com/help");
			await w.expectOnce("Answered to a phone, see https://example.com/help");
			// Closed and rated: the stars and the feedback box show too.
			await w.endConversation.click();
			await w.star(4).click();
			await w.feedback.waitFor({ state: "visible", timeout: 10_000 });

			const all = await controls(page);
			expect(all.length).toBeGreaterThan(8);
			const small = all.filter((c) => c.width < 24 || c.height < 24);
			expect(small, "targets under 24 × 24 px").toEqual([]);
			const zooming = all.filter(
				(c) => (c.name === w.t.messageBox || c.name === w.t.feedback) && c.fontSize < 16,
			);
			expect(zooming, "text boxes under 16 px").toEqual([]);
			expect(all.filter((c) => c.name === w.t.feedback || c.name === w.t.messageBox)).toHaveLength(
				2,
			);

			const open = await seriousViolations(page);
			expect(open, describeViolations(open)).toEqual([]);
		});
	}, 60_000);

	test("the on-screen keyboard: when the visual viewport shrinks, the panel follows it and the message box stays in view", async () => {
		const { page, context } = await visitor(PHONE);
		await screenshotOnFailure(page, "phone-keyboard", async () => {
			await page.goto(stack().shopPage());
			const w = widgetOn(page);
			await w.launcherShown();
			await w.launcher.tap();
			await w.messageBoxFocused();
			// The visual viewport shrinks as when a keyboard opens (iOS leaves the layout viewport).
			const cdp = await context.newCDPSession(page);
			await cdp.send("Emulation.setPageScaleFactor", { pageScaleFactor: 2 });
			const seen = await viewport(page);
			expect(seen.height).toBeLessThan(500);
			await until(
				async () => {
					const box = (await controls(page)).find((c) => c.name === w.t.messageBox);
					expect(box).toBeDefined();
					expect(box?.top ?? -1).toBeGreaterThanOrEqual(seen.top);
					expect(box?.bottom ?? 9999).toBeLessThanOrEqual(seen.top + seen.height + 0.5);
				},
				5000,
				"message box inside the visual viewport",
			);
			await cdp.send("Emulation.setPageScaleFactor", { pageScaleFactor: 1 });
			await until(
				async () => expect((await w.panel.boundingBox())?.height).toBe(844),
				5000,
				"panel back to full height",
			);
		});
	}, 45_000);

	test("safe-area insets (viewport-fit=cover): the launcher, the header and the message box keep clear of the notch and the home indicator", async () => {
		const { page, context } = await visitor(PHONE);
		await screenshotOnFailure(page, "phone-safe-area", async () => {
			const cdp = await context.newCDPSession(page);
			await cdp.send(
				"Emulation.setSafeAreaInsetsOverride" as never,
				{
					insets: { top: 47, bottom: 34 },
				} as never,
			);
			await page.goto(
				stack().shopPage({
					head: '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">',
				}),
			);
			const w = widgetOn(page);
			await w.launcherShown();
			const launcher = await w.launcher.boundingBox();
			expect((launcher?.y ?? 9999) + (launcher?.height ?? 0)).toBeLessThanOrEqual(844 - 34);
			await w.launcher.tap();
			await w.messageBoxFocused();
			const all = await controls(page);
			const close = all.find((c) => c.name === w.t.closeChat);
			const box = all.find((c) => c.name === w.t.messageBox);
			expect(close?.top ?? -1).toBeGreaterThanOrEqual(47);
			expect(box?.bottom ?? 9999).toBeLessThanOrEqual(844 - 34);
		});
	}, 45_000);

	test("the page behind does not scroll while the panel is open, and is where it was after", async () => {
		const { page } = await visitor(PHONE);
		await screenshotOnFailure(page, "phone-scroll-lock", async () => {
			await page.goto(stack().shopPage({ body: '<div style="height:4000px">Long page</div>' }));
			const w = widgetOn(page);
			await w.launcherShown();
			await page.evaluate("scrollTo(0, 600)");
			await until(async () => expect(await page.evaluate("scrollY")).toBe(600));
			await w.launcher.tap();
			await w.messageBoxFocused();
			// A wheel over the header (which does not scroll) would otherwise move the page.
			await page.mouse.move(100, 30);
			await page.mouse.wheel(0, 800);
			await page.keyboard.press("Escape");
			await w.panel.waitFor({ state: "hidden", timeout: 5000 });
			expect(await page.evaluate("scrollY")).toBe(600);
			await page.mouse.wheel(0, 300);
			await until(async () => expect(await page.evaluate("scrollY")).toBeGreaterThan(600));
		});
	}, 45_000);

	test("the back gesture closes the panel and stays on the page; Escape closes it without leaving a history entry", async () => {
		const { page } = await visitor(PHONE);
		await screenshotOnFailure(page, "phone-back", async () => {
			const first = stack().shopPage();
			const second = stack().shopPage();
			await page.goto(first);
			await page.goto(second);
			const w = widgetOn(page);
			await w.launcherShown();
			await w.launcher.tap();
			await w.messageBoxFocused();
			await page.evaluate("history.back()");
			await w.panel.waitFor({ state: "hidden", timeout: 5000 });
			expect(page.url()).toBe(second);
			expect(await w.launcher.getAttribute("aria-expanded")).toBe("false");
			await until(async () => expect(await isFocused(w.launcher)).toBe(true), 3000);

			await w.launcher.tap();
			await w.messageBoxFocused();
			// The widget takes its entry back as the panel closes: wait for that step.
			const stepped = page.evaluate(
				"new Promise((resolve) => addEventListener('popstate', resolve, { once: true }))",
			);
			await page.keyboard.press("Escape");
			await w.panel.waitFor({ state: "hidden", timeout: 5000 });
			await stepped;
			expect(page.url()).toBe(second);
			// One step back now leaves the page: the panel's entry went with the panel.
			await page.goBack();
			expect(page.url()).toBe(first);
		});
	}, 45_000);
});
