/**
 * The conversation survives a reload on a browser that blocks third-party cookies (Chromium's
 * default here: the service's cookie is never sent from the shop's page), and history pages
 * upward through 120 messages with each shown once, in order.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { useBrowser } from "./support/browser.ts";
import { sessionCount, sessionOfTopic, useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { until, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

describe("history", () => {
	test("third-party cookies blocked: a reload keeps the conversation, and a reply that came meanwhile shows as unread", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("Before the reload");
		const topicId = await waitForWebCopy(tg, "Before the reload");
		const sessions = await sessionCount(stack().service);

		await page.goto("about:blank");
		tg.operatorPosts(topicId, "Answer while you were away");
		// Wait until the service stored the answer before coming back.
		await until(async () => {
			const [row] = await stack().service.database.query<{ n: string }>(
				sql`select count(*) as n from messages where text = 'Answer while you were away'`,
			);
			expect(Number(row?.n)).toBe(1);
		});

		const apiHeaders: Record<string, string>[] = [];
		page.on("request", (request) => {
			if (request.url().startsWith(`${stack().base}/api/chat/`))
				void request.allHeaders().then((headers) => apiHeaders.push(headers));
		});
		await page.goBack();
		await page.reload();
		const badged = page.getByRole("button", { name: w.t.unread(1), exact: true });
		await badged.waitFor({ state: "visible", timeout: 10_000 });
		await badged.click();
		await w.messageBoxFocused();
		await w.expectOnce("Before the reload");
		await w.expectOnce("Answer while you were away");
		expect(await w.stateOf("Before the reload")).toBe("sent");
		// Same conversation: no new session, and what is written now goes to the same topic.
		await w.send("After the reload");
		expect(await waitForWebCopy(tg, "After the reload")).toBe(topicId);
		expect(await sessionCount(stack().service)).toBe(sessions);
		expect(webCopies(tg, "Before the reload")).toHaveLength(1);
		// The browser never sent the service's cookie from the shop: the stored id did it all.
		expect(apiHeaders.length).toBeGreaterThan(0);
		expect(apiHeaders.filter((h) => (h.cookie ?? "").includes("webchat_session"))).toEqual([]);
		expect(apiHeaders.some((h) => h["x-session-id"])).toBe(true);
	}, 45_000);

	test("120 stored messages page upward on 'Load earlier messages': each shown once, in order", async () => {
		const { tg, service } = stack();
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("Paging starts here");
		const topicId = await waitForWebCopy(tg, "Paging starts here");
		const sessionId = await sessionOfTopic(service, topicId);
		await page.goto("about:blank");

		const texts = Array.from({ length: 120 }, (_, i) => `Seed ${String(i + 1).padStart(3, "0")}`);
		for (const text of texts) {
			const response = await fetch(`${service.url}/api/chat/message`, {
				method: "POST",
				headers: { "content-type": "application/json", "x-session-id": sessionId },
				body: JSON.stringify({ text }),
			});
			expect(response.status).toBe(201);
		}

		await page.goBack();
		await page.reload();
		await w.open();
		await w.expectOnce("Seed 120");
		const seedsShown = async () =>
			[...(await w.logText()).matchAll(/Seed \d{3}/g)].map((m) => m[0]);
		const deadline = Date.now() + 30_000;
		let pages = 0;
		while (
			(await seedsShown()).length < 120 ||
			(await w.message("Paging starts here").count()) === 0
		) {
			if (Date.now() > deadline)
				throw new Error(`only ${(await seedsShown()).length} of 120 shown after ${pages} pages`);
			if (await w.loadEarlier.isVisible()) {
				await w.loadEarlier.click();
				pages += 1;
			} else {
				// Scrolling to the top is the other way to ask for more.
				await w.log.evaluate((el) => {
					(el as unknown as { scrollTop: number }).scrollTop = 0;
				});
			}
			await Bun.sleep(150);
		}
		expect(pages).toBeGreaterThan(0);
		expect(await seedsShown()).toEqual(texts);
		for (const text of [
			"Paging starts here",
			"Seed 001",
			"Seed 050",
			"Seed 051",
			"Seed 100",
			"Seed 120",
		])
			expect(await w.message(text).count()).toBe(1);
		const all = await w.logText();
		expect(all.indexOf("Paging starts here")).toBeLessThan(all.indexOf("Seed 001"));
		// Once everything is shown there is nothing earlier to load.
		await until(async () => expect(await w.loadEarlier.isVisible()).toBe(false), 5000);
	}, 60_000);
});
