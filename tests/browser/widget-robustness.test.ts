/**
 * Hosts that make life hard: a strict
 * Content-Security-Policy written as docs/WIDGET.md tells site owners, storage that throws on
 * access, and the same visitor in two tabs.
 */
import { describe, expect, test } from "bun:test";
import { describeViolations, seriousViolations } from "./support/axe.ts";
import { useBrowser } from "./support/browser.ts";
import { sessionCount, useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

describe("hard hosts", () => {
	test("a strict host CSP (the one docs/WIDGET.md gives): styled, live, no violation", async () => {
		const { tg, base, port } = stack();
		const v = await visitor();
		const violations: string[] = [];
		await v.context.exposeBinding("__cspViolation", (_source, text: string) => {
			violations.push(text);
		});
		await v.context.addInitScript(() => {
			const g = globalThis as unknown as {
				addEventListener(type: string, fn: (e: unknown) => void, capture: boolean): void;
				__cspViolation(text: string): void;
			};
			g.addEventListener(
				"securitypolicyviolation",
				(e) => {
					const event = e as { violatedDirective: string; blockedURI: string };
					g.__cspViolation(`${event.violatedDirective} ${event.blockedURI}`);
				},
				true,
			);
		});
		const csp = [
			"default-src 'self'",
			`script-src 'self' ${base}`,
			"style-src 'self'",
			`connect-src 'self' ${base} ws://chat.test:${port}`,
			`img-src 'self' ${base} blob: data:`,
			`media-src ${base}`,
		].join("; ");
		await v.page.goto(stack().shopPage({ headers: { "content-security-policy": csp } }));
		const w = widgetOn(v.page);
		await w.open();
		// Styled: a fixed launcher of real size, a panel that floats over the page.
		const launcherBox = await w.launcher.boundingBox();
		expect(launcherBox?.width ?? 0).toBeGreaterThan(30);
		const position = await w.panel.evaluate(
			(el) =>
				(
					globalThis as unknown as { getComputedStyle(e: unknown): { position: string } }
				).getComputedStyle(el).position,
		);
		expect(position).toBe("fixed");
		await w.send("Under a strict CSP");
		const topicId = await waitForWebCopy(tg, "Under a strict CSP");
		tg.operatorPosts(topicId, "Answer under a strict CSP");
		await w.expectOnce("Answer under a strict CSP");
		const axe = await seriousViolations(v.page);
		expect(axe, describeViolations(axe)).toEqual([]);
		expect(violations).toEqual([]);
	}, 45_000);

	test("storage that throws on access: the widget still works, and a page view still creates no session", async () => {
		const { tg } = stack();
		const v = await visitor();
		await v.context.addInitScript(() => {
			for (const name of ["localStorage", "sessionStorage"])
				Object.defineProperty(globalThis, name, {
					configurable: true,
					get() {
						throw new Error("SecurityError: access is denied for this document");
					},
				});
		});
		const before = await sessionCount(stack().service);
		await v.page.goto(stack().shopPage());
		const w = widgetOn(v.page);
		await w.launcherShown();
		await v.page.waitForLoadState("networkidle");
		expect(await sessionCount(stack().service)).toBe(before);
		await w.open();
		await w.send("No storage here");
		const topicId = await waitForWebCopy(tg, "No storage here");
		tg.operatorPosts(topicId, "Answer without storage");
		await w.expectOnce("Answer without storage");
	}, 45_000);

	/** A visitor who wrote `first` in tab A (still open), and a way to open the shop in tab B. */
	async function writingInTabA(first: string) {
		const v = await visitor();
		const url = stack().shopPage();
		await v.page.goto(url);
		const a = widgetOn(v.page);
		await a.open();
		await a.send(first);
		const topicId = await waitForWebCopy(stack().tg, first);
		const openTabB = async () => {
			const page = await v.newPage();
			await page.goto(url);
			return { page, b: widgetOn(page) };
		};
		return { a, page: v.page, topicId, openTabB };
	}

	test("the same visitor in two tabs: every message once in both", async () => {
		const { tg } = stack();
		const { a, topicId, openTabB } = await writingInTabA("Written in tab A");
		const { b } = await openTabB();
		await b.open();
		await b.expectOnce("Written in tab A");
		await b.send("Written in tab B");
		await a.expectOnce("Written in tab B");
		tg.operatorPosts(topicId, "One answer for both tabs");
		await a.expectOnce("One answer for both tabs");
		await b.expectOnce("One answer for both tabs");
		await waitForWebCopy(tg, "Written in tab B");
		expect(await waitForWebCopy(tg, "Written in tab B")).toBe(topicId);
		// Settled: a later message reached the topic; nothing was doubled on the way.
		await a.send("Last word from tab A");
		await waitForWebCopy(tg, "Last word from tab A");
		await b.expectOnce("Last word from tab A");
		for (const text of ["Written in tab A", "Written in tab B"]) {
			expect(webCopies(tg, text)).toHaveLength(1);
			await until(async () => {
				expect(await a.message(text).count()).toBe(1);
				expect(await b.message(text).count()).toBe(1);
			});
		}
	}, 45_000);

	test("a reply read in one tab clears the unread badge in the other at once, with no reload", async () => {
		const { tg } = stack();
		const { a, page, topicId, openTabB } = await writingInTabA("Is the red one back in stock?");
		await a.closeButton.click();
		await a.panel.waitFor({ state: "hidden" });
		const { page: second, b } = await openTabB();
		await b.launcherShown();

		// Both tabs closed: the answer is unread in both.
		tg.operatorPosts(topicId, "Yes, since this morning.");
		const badgedA = page.getByRole("button", { name: a.t.unread(1), exact: true });
		const badgedB = second.getByRole("button", { name: b.t.unread(1), exact: true });
		await badgedA.waitFor({ state: "visible", timeout: 10_000 });
		await badgedB.waitFor({ state: "visible", timeout: 10_000 });

		// Read in tab A: tab B's launcher loses its badge by itself.
		await badgedA.click();
		await a.expectOnce("Yes, since this morning.");
		await second
			.getByRole("button", { name: b.t.launcher, exact: true })
			.waitFor({ state: "visible", timeout: 5_000 });
		expect(await badgedB.count()).toBe(0);
	}, 45_000);
});
