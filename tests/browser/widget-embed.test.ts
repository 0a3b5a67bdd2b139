/**
 * Other ways in: the Russian texts from `data-locale="ru"`, the older snippet at
 * `/chat-widget/chat-widget.js` with its `data-api-url` / `data-ws-url`, and the demo page the
 * service itself serves at `/` with the snippet for this deployment and a working widget.
 */
import { describe, expect, test } from "bun:test";
import { useBrowser } from "./support/browser.ts";
import { useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

describe("other ways in", () => {
	test('data-locale="ru": every name and text in Russian, and the chat works', async () => {
		const { tg } = stack();
		const { page } = await visitor({ locale: "en-US" });
		await page.goto(stack().shopPage({ data: { locale: "ru" } }));
		const w = widgetOn(page, "ru");
		await w.open();
		for (const control of [
			w.sendButton,
			w.attachButton,
			w.closeButton,
			w.continueTelegram,
			w.endConversation,
		])
			await control.waitFor({ state: "visible", timeout: 5000 });
		await w.log.waitFor({ state: "attached" });
		await w.send("Привет, где мой заказ?");
		const topicId = await waitForWebCopy(tg, "Привет, где мой заказ?");
		await w.inPanel(w.t.status.open).waitFor({ state: "visible", timeout: 5000 });
		tg.operatorPosts(topicId, "Заказ уже в пути.");
		await w.expectOnce("Заказ уже в пути.");
		await w.inPanel(w.t.status.inProgress).waitFor({ state: "visible", timeout: 10_000 });
		await w.closeButton.click();
		tg.operatorPosts(topicId, "Трек-номер: 42.");
		await page
			.getByRole("button", { name: w.t.unread(1), exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });
		// No English name is left on a Russian widget.
		expect(await page.getByRole("button", { name: "Chat with us" }).count()).toBe(0);
	}, 45_000);

	test("the older snippet (/chat-widget/chat-widget.js with data-api-url and data-ws-url) works end to end", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		const apiHosts = new Set<string>();
		page.on("request", (request) => {
			const url = new URL(request.url());
			if (url.pathname.startsWith("/api/chat/")) apiHosts.add(url.host);
		});
		const sockets: string[] = [];
		page.on("websocket", (ws) => sockets.push(ws.url()));
		await page.goto(
			stack().shopPage({
				script: {
					path: "/chat-widget/chat-widget.js",
					data: {
						"api-url": `${stack().base}/api/chat`,
						"ws-url": `ws://chat.test:${stack().port}/ws/chat`,
					},
				},
			}),
		);
		const w = widgetOn(page);
		await w.open();
		await w.send("From the old snippet");
		const topicId = await waitForWebCopy(tg, "From the old snippet");
		tg.operatorPosts(topicId, "Answer to the old snippet");
		await w.expectOnce("Answer to the old snippet");
		expect(webCopies(tg, "From the old snippet")).toHaveLength(1);
		expect([...apiHosts]).toEqual([`chat.test:${stack().port}`]);
		expect(sockets.length).toBeGreaterThan(0);
		for (const url of sockets) expect(url).toStartWith(`ws://chat.test:${stack().port}/ws/chat`);
	}, 45_000);

	test("the demo page at / shows this deployment's snippet and a working widget", async () => {
		const { tg } = stack();
		const { page } = await visitor();
		await page.goto(`${stack().base}/`);
		const text = (await page.locator("body").textContent()) ?? "";
		expect(text).toContain(`${stack().base}/widget.js`);
		expect(text).toContain("<script");
		const w = widgetOn(page);
		await w.open();
		await w.send("Hello from the demo page");
		const topicId = await waitForWebCopy(tg, "Hello from the demo page");
		tg.operatorPosts(topicId, "Hello, demo visitor");
		await w.expectOnce("Hello, demo visitor");
	}, 45_000);
});
