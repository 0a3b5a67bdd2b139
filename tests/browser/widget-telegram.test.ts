/**
 * The widget's way to Telegram and the end of a conversation: "Continue in Telegram" opens the
 * bot's t.me link with a one-time token, the Telegram side (the double) follows it, and the
 * panel names the account; ending the conversation (by the visitor or by an operator's card
 * button) offers a 1–5 rating that reaches the topic; writing again reopens.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { ApiCall } from "../support/telegram-double.ts";
import { useBrowser } from "./support/browser.ts";
import { useStack } from "./support/stack.ts";
import { waitForTopicText, waitForWebCopy } from "./support/topic.ts";
import { startChatOnShop, until, type Widget } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

let nextUser = 910_000;

/** A visitor with an open panel and a topic. */
async function startChat(first: string) {
	const v = await visitor();
	// t.me is out of reach here: answer it with a stand-in page.
	await v.context.route("https://t.me/**", (route) =>
		route.fulfill({ contentType: "text/html", body: "<!doctype html><title>Telegram</title>" }),
	);
	return startChatOnShop(v, stack(), first);
}

/** A button the bot attached to one of its messages to this chat, with this text. */
function findButton(calls: ApiCall[], chatId: number, text: RegExp) {
	for (const call of calls) {
		if (!call.ok || Number(call.params.chat_id) !== chatId) continue;
		const markup = call.params.reply_markup as
			| { inline_keyboard?: { text: string; callback_data?: string }[][] }
			| string
			| undefined;
		const parsed = typeof markup === "string" ? JSON.parse(markup) : markup;
		for (const row of parsed?.inline_keyboard ?? [])
			for (const button of row)
				if (text.test(button.text) && button.callback_data)
					return {
						messageId: (call.result as { message_id: number }).message_id,
						data: button.callback_data,
					};
	}
	return undefined;
}

/**
 * `user` opens the link with `token` in Telegram and presses "Link" if asked to confirm; resolves
 * once the panel names the account.
 */
async function followLink(w: Widget, user: { id: number; first_name: string }, token: string) {
	const { tg } = stack();
	const since = tg.calls.length;
	tg.customerSends(user, `/start ${token}`);
	const linkedText = w.inPanel(w.t.linkedAs(user.first_name));
	await until(
		async () => {
			if (await linkedText.isVisible()) return;
			const confirm = findButton(tg.calls.slice(since), user.id, /^(Link|Связать)/);
			if (confirm) {
				tg.pressButton(user.id, confirm.messageId, confirm.data, user);
				await linkedText.waitFor({ state: "visible", timeout: 10_000 });
				return;
			}
			throw new Error("neither linked nor asked to confirm yet");
		},
		15_000,
		"linked",
	);
}

/** The visitor presses "Continue in Telegram"; returns the link's one-time token. */
async function tokenFromButton(chat: Awaited<ReturnType<typeof startChat>>): Promise<string> {
	const popup = chat.context.waitForEvent("page", { timeout: 10_000 });
	await chat.w.continueTelegram.click();
	const tab = await popup;
	await tab.waitForURL(/^https:\/\/t\.me\//, { timeout: 10_000 });
	const token = new URL(tab.url()).searchParams.get("start") ?? "";
	await tab.close();
	return token;
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

describe("Telegram", () => {
	test("'Continue in Telegram' opens the bot's t.me link; following it in Telegram shows 'Linked to Telegram as NAME'", async () => {
		const { tg } = stack();
		const { context, w, topicId } = await startChat("Can I continue on my phone?");
		const popup = context.waitForEvent("page", { timeout: 10_000 });
		await w.continueTelegram.click();
		const tab = await popup;
		await tab.waitForURL(/^https:\/\/t\.me\//, { timeout: 10_000 });
		const url = new URL(tab.url());
		expect(`${url.origin}${url.pathname}`).toBe(`https://t.me/${tg.botUser.username}`);
		const token = url.searchParams.get("start") ?? "";
		expect(token).toMatch(/^link_[0-9a-f]{32}$/);

		nextUser += 1;
		const lena = { id: nextUser, first_name: "Lena" };
		await followLink(w, lena, token);
		// Both channels now lead to the same topic.
		tg.customerSends(lena, "Written in Telegram");
		await waitForTopicText(tg, topicId, (t) => t.includes("Written in Telegram"));
		await w.expectOnce("Written in Telegram");
	}, 45_000);

	test("linking to a Telegram account that has a conversation of its own shows the two as one, in the order written", async () => {
		const { tg } = stack();
		nextUser += 1;
		const tom = { id: nextUser, first_name: "Tom" };
		// Tom's message in his topic: copied, or (a new ticket's first) written under the card.
		const copied = (since: number, text: string) =>
			tg.waitForCall(
				(c) =>
					c.ok &&
					((c.method === "copyMessage" && Number(c.params.from_chat_id) === tom.id) ||
						(c.method === "sendMessage" && String(c.params.text).endsWith(`\n\n${text}`))),
				{ since, timeoutMs: 10_000 },
			);
		// Tom's Telegram conversation is older: it is the one that stays when the two merge.
		let since = tg.calls.length;
		tg.customerSends(tom, "Asked in Telegram first");
		await copied(since, "Asked in Telegram first");
		const chat = await startChat("Asked on the web second");
		since = tg.calls.length;
		tg.customerSends(tom, "Telegram again, third");
		await copied(since, "Telegram again, third");
		await chat.w.send("Web again, fourth");

		await followLink(chat.w, tom, await tokenFromButton(chat));
		const written = [
			"Asked in Telegram first",
			"Asked on the web second",
			"Telegram again, third",
			"Web again, fourth",
		];
		await until(
			async () => {
				const log = await chat.w.logText();
				const at = written.map((text) => log.indexOf(text));
				expect(at.every((index) => index >= 0)).toBe(true);
				expect(at).toEqual([...at].sort((a, b) => a - b));
			},
			10_000,
			"the merged conversation, in order",
		);
		for (const text of written) await chat.w.expectOnce(text);
		// Written after the merge, it comes last.
		await chat.w.send("Web after linking, fifth");
		const log = await chat.w.logText();
		expect(log.indexOf("Web after linking, fifth")).toBeGreaterThan(
			log.indexOf("Web again, fourth"),
		);
	}, 60_000);

	test("'End conversation' → Closed and five stars; rating 4 with feedback → thanks, and the topic is told", async () => {
		const { tg } = stack();
		const { page, w, topicId } = await startChat("Thanks, that is all");
		await w.endConversation.click();
		await w.inPanel(w.t.status.closed).waitFor({ state: "visible", timeout: 10_000 });
		for (let n = 1; n <= 5; n++) await w.star(n).waitFor({ state: "visible", timeout: 5000 });
		const since = tg.calls.length;
		await w.star(4).click();
		await w.feedback.fill("Quick and kind");
		await w.sendRating.click();
		await page
			.getByText(w.t.thanks, { exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });
		const notice = await waitForTopicText(tg, topicId, (t) => t.includes("4/5"), { since });
		expect(String(notice.params.text)).toContain("4/5");
		// The stars are gone once rated: nothing more to rate.
		await until(async () => expect(await w.star(4).isVisible()).toBe(false));

		// Writing again reopens the conversation.
		await w.send("One more question");
		await waitForWebCopy(tg, "One more question");
		await w.inPanel(w.t.status.open).waitFor({ state: "visible", timeout: 10_000 });
	}, 45_000);

	test("closed by an operator's card button: the panel shows Closed and offers the rating", async () => {
		const { tg } = stack();
		const { page, w, topicId } = await startChat("Please close this one for me");
		const card = await cardOf(topicId);
		expect(card).toBeGreaterThan(0);
		tg.pressButton(tg.groupId, card, "status:CLOSED");
		await w.inPanel(w.t.status.closed).waitFor({ state: "visible", timeout: 10_000 });
		await w.star(5).waitFor({ state: "visible", timeout: 5000 });
		const since = tg.calls.length;
		await w.star(5).click();
		await w.sendRating.click();
		await page
			.getByText(w.t.thanks, { exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });
		await waitForTopicText(tg, topicId, (t) => t.includes("5/5"), { since });
	}, 45_000);
});
