/**
 * What takes time, on a stack whose waiting timers run in seconds: a ticket left waiting for the
 * visitor closes by itself and the open panel offers the rating; a large upload shows its
 * progress ("Uploading NAME") on a throttled link, then the document by name.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { useBrowser } from "./support/browser.ts";
import { bigPdf } from "./support/files.ts";
import { useStack } from "./support/stack.ts";
import { topicFileCalls, waitForTopicText } from "./support/topic.ts";
import { startChatOnShop, until } from "./support/widget.ts";

const stack = useStack({ configFile: { waiting: { reminder: "1s", autoclose: "2s" } } });
const { visitor } = useBrowser();

/** A visitor with an open panel and a topic. */
async function startChat(first: string) {
	const v = await visitor();
	return startChatOnShop(v, stack(), first);
}

/** The topic's card, once recorded (a moment after it is sent, with the first message under it). */
async function cardOf(topicId: number): Promise<number> {
	for (let tries = 0; ; tries++) {
		const [row] = await stack().service.database.query<{ card_message_id: number | null }>(
			sql`select card_message_id from customers where topic_id = ${topicId}`,
		);
		if (row?.card_message_id != null || tries >= 200) return Number(row?.card_message_id);
		await Bun.sleep(50);
	}
}

describe("timers and long uploads", () => {
	test("waiting for the visitor: the reminder notice, then auto-close → Closed and the rating in the open panel; the rating reaches the topic", async () => {
		const { tg } = stack();
		const { page, w, topicId } = await startChat("I will check and come back");
		tg.operatorPosts(topicId, "Please send your order number.");
		await w.expectOnce("Please send your order number.");
		tg.pressButton(tg.groupId, await cardOf(topicId), "status:WAITING_CLIENT");
		await w.inPanel(w.t.status.waiting).waitFor({ state: "visible", timeout: 10_000 });
		// The desk's notices arrive live: first the reminder, then the close.
		await w.log.getByText(/waiting for your reply/i).waitFor({ state: "visible", timeout: 10_000 });
		await w.inPanel(w.t.status.closed).waitFor({ state: "visible", timeout: 15_000 });
		await w.log.getByText(/conversation is closed/).waitFor({ state: "visible", timeout: 10_000 });
		for (let n = 1; n <= 5; n++) await w.star(n).waitFor({ state: "visible", timeout: 5000 });
		expect(await w.endConversation.isVisible()).toBe(false);

		const since = tg.calls.length;
		await w.star(3).click();
		await w.sendRating.click();
		await page
			.getByText(w.t.thanks, { exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });
		await waitForTopicText(tg, topicId, (t) => t.includes("3/5"), { since });
	}, 45_000);

	test("a 3 MB document on a slow uplink: the 'Uploading NAME' progress bar while it runs, then the document by name", async () => {
		const { page, context, w, topicId } = await startChat("Here is our catalogue");
		const cdp = await context.newCDPSession(page);
		await cdp.send("Network.enable");
		// About 1.5 MB/s up: the upload takes two seconds.
		await cdp.send("Network.emulateNetworkConditions", {
			offline: false,
			latency: 0,
			downloadThroughput: -1,
			uploadThroughput: 1_500_000,
		});
		const file = bigPdf(3 * 1024 * 1024);
		const chooser = page.waitForEvent("filechooser", { timeout: 5000 });
		await w.attachButton.click();
		await (await chooser).setFiles({
			name: "catalogue-2024.pdf",
			mimeType: "application/pdf",
			buffer: file,
		});

		const bar = page.getByRole("progressbar", {
			name: "Uploading catalogue-2024.pdf",
			exact: true,
		});
		await bar.waitFor({ state: "visible", timeout: 5000 });
		// Part of the way, while it runs.
		await until(
			async () => {
				const value = Number(await bar.getAttribute("value", { timeout: 1000 }));
				expect(value).toBeGreaterThan(0.05);
				expect(value).toBeLessThan(0.95);
			},
			10_000,
			"progress part of the way",
		);
		await w.log
			.getByText("catalogue-2024.pdf", { exact: true })
			.waitFor({ state: "visible", timeout: 20_000 });
		await bar.waitFor({ state: "detached", timeout: 5000 });
		await until(async () => expect(topicFileCalls(stack().tg, topicId)).toHaveLength(1), 15_000);
		expect(topicFileCalls(stack().tg, topicId)[0]?.method).toBe("sendDocument");
		await cdp.send("Network.emulateNetworkConditions", {
			offline: false,
			latency: 0,
			downloadThroughput: -1,
			uploadThroughput: -1,
		});
	}, 60_000);
});
