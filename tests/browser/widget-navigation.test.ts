/**
 * Pages that come and go: the back/forward cache left on (Playwright turns it off by default,
 * which hides its bugs: the closed socket's `close` event arrives after `pageshow`, so a naive
 * widget opens a second socket) — leaving and coming back restores the page with exactly one socket and
 * the reply that came meanwhile shown once; and the snippet in <head> (twice) across a
 * Turbo-style swap of <body> — one launcher, one socket, still working.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { useBrowser } from "./support/browser.ts";
import { sockets, trackSockets } from "./support/sockets.ts";
import { useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser({ ignoreDefaultArgs: ["--disable-back-forward-cache"] });

async function storedTexts(text: string): Promise<number> {
	const [row] = await stack().service.database.query<{ n: string }>(
		sql`select count(*) as n from messages where text = ${text}`,
	);
	return Number(row?.n ?? 0);
}

describe("navigation", () => {
	test("back/forward cache: away and back restores the page, one socket afterwards, the reply sent meanwhile shown once", async () => {
		const { tg, site } = stack();
		const v = await visitor();
		await trackSockets(v.context);
		const { page } = v;
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("Before leaving the page");
		const topicId = await waitForWebCopy(tg, "Before leaving the page");
		await page.evaluate(() => {
			(globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
		});

		await page.goto(
			site.page("/elsewhere.html", "<!doctype html><title>Elsewhere</title><p>Elsewhere</p>"),
		);
		tg.operatorPosts(topicId, "Answer while you were elsewhere");
		await until(async () => expect(await storedTexts("Answer while you were elsewhere")).toBe(1));

		await page.goBack({ waitUntil: "commit" });
		const restored = await page.evaluate(() => {
			const g = globalThis as unknown as {
				__sameDocument?: boolean;
				performance: { getEntriesByType(t: string): { notRestoredReasons?: unknown }[] };
			};
			return {
				same: g.__sameDocument === true,
				why: JSON.stringify(
					g.performance.getEntriesByType("navigation")[0]?.notRestoredReasons ?? null,
				),
			};
		});
		expect(restored).toEqual({ same: true, why: "null" });

		await w.expectOnce("Answer while you were elsewhere", 15_000);
		await until(
			async () => {
				expect(await sockets(page)).toMatchObject({ live: 1, open: 1 });
				expect(await page.getByText(w.t.reconnecting, { exact: true }).count()).toBe(0);
			},
			10_000,
			"one open socket, live",
		);
		await w.send("After coming back");
		await waitForWebCopy(tg, "After coming back");
		// The socket of before was retired, one new one made: two in all, one open.
		expect(await sockets(page)).toEqual({ made: 2, live: 1, open: 1 });
		expect(await w.message("Answer while you were elsewhere").count()).toBe(1);
		expect(await w.message("Before leaving the page").count()).toBe(1);
		expect(webCopies(tg, "After coming back")).toHaveLength(1);
	}, 45_000);

	test("the snippet in <head> (pasted twice) and a Turbo-style <body> swap: one launcher, one socket, still working", async () => {
		const { tg, site } = stack();
		const v = await visitor();
		await trackSockets(v.context);
		const { page } = v;
		const src = `${stack().base}/widget.js`;
		const url = site.page(
			"/turbo.html",
			`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Turbo shop</title>
<script src="${src}"></script>
<script src="${src}" async></script>
</head><body><main><h1>Page one</h1></main></body></html>`,
		);
		await page.goto(url);
		const w = widgetOn(page);
		await w.open();
		await w.send("Before the swap");
		const topicId = await waitForWebCopy(tg, "Before the swap");

		// What Turbo does on a visit: a new <body> replaces the old one, the URL changes.
		await page.evaluate(() => {
			const d = (
				globalThis as unknown as {
					document: {
						createElement(t: string): { innerHTML: string };
						body: { replaceWith(n: unknown): void };
					};
				}
			).document;
			const body = d.createElement("body");
			body.innerHTML = "<main><h1>Page two</h1><p>Swapped in.</p></main>";
			d.body.replaceWith(body);
			(
				globalThis as unknown as { history: { pushState(s: unknown, t: string, u: string): void } }
			).history.pushState({}, "", "/turbo-two.html");
		});
		await page.getByRole("heading", { name: "Page two" }).waitFor({ state: "visible" });
		await w.launcherShown(5000);
		expect(await w.launcher.count()).toBe(1);
		// The same widget, still open, and still talking.
		await w.messageBox.waitFor({ state: "visible", timeout: 5000 });
		await w.expectOnce("Before the swap");
		await w.send("After the swap");
		await waitForWebCopy(tg, "After the swap");
		tg.operatorPosts(topicId, "Answer after the swap");
		await w.expectOnce("Answer after the swap");
		expect(await w.launcher.count()).toBe(1);
		expect(await sockets(page)).toEqual({ made: 1, live: 1, open: 1 });
		expect(webCopies(tg, "After the swap")).toHaveLength(1);
	}, 45_000);
});
