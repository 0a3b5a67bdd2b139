/**
 * The Telegram side of a browser test: what reached the support group (through the Bot API
 * double's recorded calls) and an operator answering in a customer's topic.
 */
import type { ApiCall, TelegramDouble } from "../../support/telegram-double.ts";
import { shownText, showsText } from "../../support/telegram-flow.ts";

/** A web visitor's text as the bot copies it into the topic. */
export const webCopyText = (text: string) => `[WEB] ${text}`;

/** The bot's sendMessage calls into the support group showing this text (alone or under the card). */
export function groupTexts(tg: TelegramDouble, text: string): ApiCall[] {
	return tg.calls.filter(
		(c) =>
			c.method === "sendMessage" &&
			c.ok &&
			Number(c.params.chat_id) === tg.groupId &&
			showsText(c, text),
	);
}

/** Copies of a visitor's web message in the group. */
export function webCopies(tg: TelegramDouble, text: string): ApiCall[] {
	return groupTexts(tg, webCopyText(text));
}

/** Waits for the visitor's message to land in their topic; returns the topic's thread id. */
export async function waitForWebCopy(
	tg: TelegramDouble,
	text: string,
	timeoutMs = 10_000,
): Promise<number> {
	const call = await tg.waitForCall(
		(c) =>
			c.method === "sendMessage" &&
			c.ok &&
			Number(c.params.chat_id) === tg.groupId &&
			showsText(c, webCopyText(text)),
		{ timeoutMs },
	);
	return Number(call.params.message_thread_id);
}

/** Waits for a bot message into the topic whose text satisfies `match`. */
export function waitForTopicText(
	tg: TelegramDouble,
	topicId: number,
	match: (text: string) => boolean,
	options: { since?: number; timeoutMs?: number } = {},
): Promise<ApiCall> {
	return tg.waitForCall(
		(c) =>
			c.method === "sendMessage" &&
			c.ok &&
			Number(c.params.chat_id) === tg.groupId &&
			Number(c.params.message_thread_id) === topicId &&
			match(shownText(c)),
		{ timeoutMs: options.timeoutMs ?? 10_000, since: options.since },
	);
}

/** Any bot call that put a file of this kind into the topic (sendPhoto, sendDocument, …). */
export function topicFileCalls(tg: TelegramDouble, topicId: number): ApiCall[] {
	return tg.calls.filter(
		(c) =>
			c.ok &&
			/^send(Photo|Document|Voice|Audio|Video|Animation)$/.test(c.method) &&
			Number(c.params.chat_id) === tg.groupId &&
			Number(c.params.message_thread_id) === topicId,
	);
}

/** Waits for the visitor's message to land in their topic; returns the copy's message id there. */
export async function webCopyId(tg: TelegramDouble, text: string, timeoutMs = 10_000) {
	const call = await tg.waitForCall(
		(c) =>
			c.method === "sendMessage" &&
			c.ok &&
			Number(c.params.chat_id) === tg.groupId &&
			showsText(c, webCopyText(text)),
		{ timeoutMs },
	);
	return (call.result as { message_id: number }).message_id;
}
