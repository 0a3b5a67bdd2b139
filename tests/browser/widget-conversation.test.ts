/**
 * The conversation's finer points: a send the service refuses for a moment (5xx, 429) stays
 * "Sending…" and goes out by itself; one it refuses for good shows "Failed" with "Retry"; an
 * operator's edit and the desk's notices appear live; a reply to the visitor's message quotes it.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Route } from "playwright-core";
import { useBrowser } from "./support/browser.ts";
import { sessionOfTopic, storedCount, useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies, webCopyId } from "./support/topic.ts";
import { startChatOnShop, type Widget } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

/** The service's own error lines for the answers these tests forge. */
const FORGED_ANSWERS =
	/Failed to load resource: the server responded with a status of (400|429|500)/;

/** A visitor with an open panel and a topic. */
async function startChat(first: string) {
	const v = await visitor();
	v.expectConsole(FORGED_ANSWERS);
	return startChatOnShop(v, stack(), first);
}

/** An error answer as the service would give it, readable cross-origin. */
function forge(route: Route, origin: string, status: number, headers: Record<string, string> = {}) {
	return route.fulfill({
		status,
		contentType: "application/json",
		headers: {
			"access-control-allow-origin": origin,
			"access-control-allow-credentials": "true",
			"access-control-expose-headers": "Retry-After",
			...headers,
		},
		body: JSON.stringify({
			success: false,
			error: { code: status === 400 ? "INVALID_MESSAGE" : "INTERNAL", message: "forged" },
		}),
	});
}

/** A later message reached the topic: the outbox, in order per customer, is past this one. */
async function settle(w: Widget, marker: string) {
	await w.send(marker, 20_000);
	await waitForWebCopy(stack().tg, marker, 15_000);
}

describe("sending, edits, notices, replies", () => {
	test("a 500 and then a 429 with Retry-After: still Sending…, retried by itself after the wait, Sent once", async () => {
		const { tg, site } = stack();
		const { page, w, topicId } = await startChat("Hello before the outage");
		const attempts: number[] = [];
		const arrived: (() => void)[] = [];
		const nth = (n: number) =>
			new Promise<void>((resolve) => {
				arrived[n] = resolve;
				if (attempts.length >= n) resolve();
			});
		await page.route(`${stack().base}/api/chat/message`, async (route) => {
			if (route.request().method() !== "POST") return route.continue();
			attempts.push(Date.now());
			arrived[attempts.length]?.();
			if (attempts.length === 1) return forge(route, site.origin, 500);
			if (attempts.length === 2) return forge(route, site.origin, 429, { "retry-after": "2" });
			return route.continue();
		});

		await w.type("Sent through a bad minute");
		// The second attempt means the widget has handled the 500: it kept the message pending.
		await nth(2);
		expect(await w.stateOf("Sent through a bad minute")).toBe("sending");
		expect(await w.retryButton.count()).toBe(0);
		await nth(3);
		expect(await w.stateOf("Sent through a bad minute")).toBe("sending");
		// Retry-After: 2 was honoured before the third try.
		expect((attempts[2] ?? 0) - (attempts[1] ?? 0)).toBeGreaterThanOrEqual(1900);

		await w.expectState("Sent through a bad minute", "sent", 10_000);
		await settle(w, "After the bad minute");
		expect(attempts.length).toBe(4);
		expect(await w.retryButton.count()).toBe(0);
		expect(webCopies(tg, "Sent through a bad minute")).toHaveLength(1);
		expect(await storedCount(stack().service, topicId, "Sent through a bad minute")).toBe(1);
		expect(await w.message("Sent through a bad minute").count()).toBe(1);
	}, 45_000);

	test("a 400: Failed with Retry, nothing stored; Retry → Sent, one stored row and one topic copy", async () => {
		const { tg, site } = stack();
		const { page, w, topicId } = await startChat("Hello before the refusal");
		let refused = 0;
		await page.route(`${stack().base}/api/chat/message`, async (route) => {
			if (route.request().method() !== "POST") return route.continue();
			if (refused++ === 0) return forge(route, site.origin, 400);
			return route.continue();
		});

		await w.type("Refused once");
		await w.expectState("Refused once", "failed");
		await w.retryButton.waitFor({ state: "visible", timeout: 5000 });
		expect(await storedCount(stack().service, topicId, "Refused once")).toBe(0);
		// A failed message does not hold back the next one.
		await settle(w, "Sent after the refusal");
		expect(await w.stateOf("Refused once")).toBe("failed");
		expect(webCopies(tg, "Refused once")).toHaveLength(0);

		await w.retryButton.click();
		await w.expectState("Refused once", "sent");
		await settle(w, "After the retry");
		expect(await w.retryButton.count()).toBe(0);
		expect(await w.message("Refused once").count()).toBe(1);
		expect(webCopies(tg, "Refused once")).toHaveLength(1);
		expect(await storedCount(stack().service, topicId, "Refused once")).toBe(1);
	}, 45_000);

	test("an operator edits a delivered reply: the new text marked (edited) without a reload; the close notice shows as a centred notice", async () => {
		const { tg } = stack();
		const { page, w, topicId } = await startChat("Is the kettle in stock?");
		const reply = tg.operatorPosts(topicId, "Yes, 3 left.");
		await w.expectOnce("Yes, 3 left.");
		const loads: string[] = [];
		page.on("framenavigated", (frame) => {
			if (frame === page.mainFrame()) loads.push(frame.url());
		});

		tg.operatorEdits(topicId, reply.message_id, "Yes, 2 left.");
		await w.expectOnce("Yes, 2 left.");
		expect(await w.message("Yes, 3 left.").count()).toBe(0);
		const meta = await w
			.message("Yes, 2 left.")
			.evaluate(
				(el) =>
					(el as unknown as { parentElement: { textContent: string } }).parentElement.textContent,
			);
		expect(meta).toContain("(edited)");
		expect(loads).toEqual([]);

		// The desk's notice on close: in the log, centred, unlike the operator's reply on the left.
		const card = await cardOf(topicId);
		tg.pressButton(tg.groupId, card, "status:CLOSED");
		const notice = w.log.getByText(/conversation is closed/);
		await notice.waitFor({ state: "visible", timeout: 10_000 });
		const logBox = await w.log.boundingBox();
		const noticeBox = await notice.boundingBox();
		const replyBox = await w.message("Yes, 2 left.").boundingBox();
		if (!logBox || !noticeBox || !replyBox) throw new Error("not laid out");
		const centre = (b: { x: number; width: number }) => b.x + b.width / 2;
		expect(Math.abs(centre(noticeBox) - centre(logBox))).toBeLessThan(4);
		expect(replyBox.x - logBox.x).toBeLessThan(30);
		expect(Math.abs(centre(replyBox) - centre(logBox))).toBeGreaterThan(20);
	}, 45_000);

	test("an operator's reply to the visitor's message quotes it; a reply to a message not loaded quotes nothing", async () => {
		const { tg, service } = stack();
		const { page, w, topicId } = await startChat("My order 1234 arrived broken");
		const copy = await webCopyId(tg, "My order 1234 arrived broken");
		tg.operatorPosts(topicId, "Sorry! A new one is on its way.", { replyToMessageId: copy });
		await w.expectOnce("Sorry! A new one is on its way.");
		expect(await quoteIn(w, "Sorry! A new one is on its way.")).toBe(
			"My order 1234 arrived broken",
		);
		expect(await w.log.getByRole("blockquote").count()).toBe(1);

		// Push the original past the first page of history, then reload: it is not loaded.
		const sessionId = await sessionOfTopic(service, topicId);
		for (let i = 1; i <= 55; i++) {
			const response = await fetch(`${service.url}/api/chat/message`, {
				method: "POST",
				headers: { "content-type": "application/json", "x-session-id": sessionId },
				body: JSON.stringify({ text: `Filler ${i}` }),
			});
			expect(response.status).toBe(201);
		}
		await page.reload();
		await w.open();
		await w.expectOnce("Filler 55");
		expect(await w.message("My order 1234 arrived broken").count()).toBe(0);
		tg.operatorPosts(topicId, "Also, here is a voucher.", { replyToMessageId: copy });
		await w.expectOnce("Also, here is a voucher.", 15_000);
		expect(await quoteIn(w, "Also, here is a voucher.")).toBe(null);
		expect(await w.log.getByRole("blockquote").count()).toBe(0);
	}, 60_000);
});

/** The quote shown in the bubble of the message with this text, or null. */
function quoteIn(w: Widget, text: string): Promise<string | null> {
	return w.message(text).evaluate((el) => {
		type El = { parentElement: El; querySelector(s: string): { textContent: string } | null };
		return (el as unknown as El).parentElement.querySelector("blockquote")?.textContent ?? null;
	});
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
