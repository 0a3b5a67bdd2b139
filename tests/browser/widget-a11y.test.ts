/**
 * Keyboard-only use, an axe-core scan of the widget's shadow root (light, dark, a pale brand
 * colour) with no serious or critical violation, targets of 24 × 24 px and focus never hidden
 * behind the floating panel (WCAG 2.2), and the phone layout: a full-screen modal dialog that
 * keeps Tab inside.
 */
import { describe, expect, test } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { describeViolations, seriousViolations } from "./support/axe.ts";
import { useBrowser } from "./support/browser.ts";
import { controls } from "./support/geometry.ts";
import { useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { focusedDescription, isFocused, until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

/** True when the focused element (looking through shadow roots) is inside `container`. */
function focusWithin(container: Locator): Promise<boolean> {
	return container.evaluate((element) => {
		type El = {
			shadowRoot: { activeElement: El | null } | null;
			contains(other: unknown): boolean;
		};
		const doc = (globalThis as unknown as { document: { activeElement: El | null } }).document;
		let active = doc.activeElement;
		while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
		return Boolean(active) && (element as unknown as El).contains(active);
	});
}

/** Presses Tab until `target` has focus (at most `max` times); fails with where focus went. */
async function tabTo(page: Page, target: Locator, max = 15) {
	const visited: string[] = [];
	for (let i = 0; i < max; i++) {
		await page.keyboard.press("Tab");
		if (await isFocused(target)) return;
		visited.push(await focusedDescription(page));
	}
	throw new Error(`Tab never reached the target; focus went to:\n${visited.join("\n")}`);
}

describe("keyboard", () => {
	test("Tab reaches the launcher, Enter opens with focus in the message box, Enter sends, Shift+Enter breaks the line, Escape closes and focus returns", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.launcherShown();
		await tabTo(page, w.launcher);
		await page.keyboard.press("Enter");
		await w.messageBoxFocused();
		expect(await w.launcher.getAttribute("aria-expanded")).toBe("true");

		await page.keyboard.type("First line");
		await page.keyboard.press("Shift+Enter");
		await page.keyboard.type("second line");
		expect(await w.messageBox.inputValue()).toBe("First line\nsecond line");
		await page.keyboard.press("Enter");
		await waitForWebCopy(tg, "First line\nsecond line");
		await until(async () => expect(await w.messageBox.inputValue()).toBe(""));
		expect(webCopies(tg, "First line\nsecond line")).toHaveLength(1);
		await until(async () => {
			const text = await w.logText();
			expect(text).toContain("First line");
			expect(text).toContain("second line");
		});
		expect(await isFocused(w.messageBox)).toBe(true);

		await page.keyboard.press("Escape");
		await w.panel.waitFor({ state: "hidden", timeout: 5000 });
		await until(
			async () => expect(await isFocused(w.launcher)).toBe(true),
			3000,
			"focus on the launcher",
		);
		expect(await w.launcher.getAttribute("aria-expanded")).toBe("false");
	}, 45_000);
});

describe("WCAG 2.2 on desktop", () => {
	test("every control of the open panel is at least 24 × 24 px", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("Measuring the targets");
		const topicId = await waitForWebCopy(tg, "Measuring the targets");
		tg.operatorPosts(topicId, "Measured, see https://example.com/sizes");
		await w.expectOnce("Measured, see https://example.com/sizes");
		await w.endConversation.click();
		await w.star(5).click();
		await w.feedback.waitFor({ state: "visible", timeout: 10_000 });
		const all = await controls(page);
		expect(all.length).toBeGreaterThan(8);
		expect(all.filter((c) => c.width < 24 || c.height < 24)).toEqual([]);
	}, 45_000);

	test("a page control that takes focus while entirely behind the floating panel is not left hidden", async () => {
		const { page } = await visitor();
		// A page button under the panel's corner of the screen, the last one before the widget.
		await page.goto(
			stack().shopPage({
				body: '<button type="button" id="behind" style="position:fixed;right:100px;bottom:300px;width:80px;height:30px">Behind</button>',
			}),
		);
		const w = widgetOn(page);
		await w.open();
		const behind = page.locator("#behind");
		for (let i = 0; i < 20 && !(await isFocused(behind)); i++)
			await page.keyboard.press("Shift+Tab");
		expect(await isFocused(behind)).toBe(true);
		const onTop = await behind.evaluate((el) => {
			type Rect = { left: number; top: number; width: number; height: number };
			const doc = (
				globalThis as unknown as { document: { elementFromPoint(x: number, y: number): unknown } }
			).document;
			const r = (el as unknown as { getBoundingClientRect(): Rect }).getBoundingClientRect();
			return doc.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === el;
		});
		expect(onTop).toBe(true);
	}, 45_000);
});

describe("axe-core on the widget", () => {
	const cases: { name: string; colorScheme: "light" | "dark"; data?: Record<string, string> }[] = [
		{ name: "light", colorScheme: "light" },
		{ name: "dark", colorScheme: "dark" },
		{ name: "a pale brand colour (#fef08a)", colorScheme: "light", data: { color: "#fef08a" } },
	];
	for (const c of cases) {
		test(`${c.name}: closed, and open with messages both ways, no serious or critical violation`, async () => {
			const { tg } = stack();
			const { page } = await visitor({ colorScheme: c.colorScheme });
			await page.goto(stack().shopPage({ data: c.data }));
			const w = widgetOn(page);
			await w.launcherShown();
			const closed = await seriousViolations(page);
			expect(closed, describeViolations(closed)).toEqual([]);

			await w.open();
			await w.send(`Scanning the ${c.name} panel`);
			const topicId = await waitForWebCopy(tg, `Scanning the ${c.name} panel`);
			tg.operatorPosts(topicId, "An answer to colour the other side");
			await w.expectOnce("An answer to colour the other side");
			const open = await seriousViolations(page);
			expect(open, describeViolations(open)).toEqual([]);
		}, 45_000);
	}
});

describe("phone", () => {
	test("390×800: the panel fills the screen as a modal dialog and Tab stays inside it", async () => {
		const { page } = await visitor({
			viewport: { width: 390, height: 800 },
			isMobile: true,
			hasTouch: true,
		});
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		expect(await w.panel.getAttribute("aria-modal")).toBe("true");
		const box = await w.panel.boundingBox();
		expect(box).not.toBeNull();
		expect(Math.round(box?.x ?? -1)).toBe(0);
		expect(Math.round(box?.y ?? -1)).toBe(0);
		expect(Math.round(box?.width ?? 0)).toBe(390);
		expect(Math.round(box?.height ?? 0)).toBe(800);

		for (let i = 0; i < 20; i++) {
			await page.keyboard.press("Tab");
			expect(
				await focusWithin(w.panel),
				`after ${i + 1} Tab: ${await focusedDescription(page)}`,
			).toBe(true);
		}
		for (let i = 0; i < 5; i++) {
			await page.keyboard.press("Shift+Tab");
			expect(await focusWithin(w.panel), `after Shift+Tab: ${await focusedDescription(page)}`).toBe(
				true,
			);
		}
		const axe = await seriousViolations(page);
		expect(axe, describeViolations(axe)).toEqual([]);
		await page.keyboard.press("Escape");
		await w.panel.waitFor({ state: "hidden", timeout: 5000 });
		await until(
			async () => expect(await isFocused(w.launcher)).toBe(true),
			3000,
			"focus on the launcher",
		);
	}, 45_000);
});
