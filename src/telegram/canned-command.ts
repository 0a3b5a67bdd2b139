/**
 * `/r`, canned replies, anywhere in the support group: `/r` lists them, `/r save <name> [locale]`
 * as a reply saves that message's text (a note's without its `//` or `#internal`), `/r del <name> [locale]` deletes, and `/r <name>` in a
 * customer's topic sends it to the customer as the operator's reply (core/canned-replies.ts).
 * The General topic lists, saves and deletes but has nobody to send to. Every mistake is answered
 * for operators only; nothing reaches the customer.
 */
import type { TelegramMessage } from "gramio";
import {
	CANNED_LOCALES,
	CANNED_NAME,
	deleteCanned,
	listCanned,
	RESERVED_NAMES,
	saveCanned,
	sendCanned,
} from "../core/canned-replies.ts";
import type { Work } from "../core/unit-of-work.ts";
import type { Locale } from "../i18n/texts.ts";
import { answerOperators, explicitReply, topicCustomer } from "./command-answer.ts";
import { textOf } from "./incoming.ts";
import { withoutNoteMarker } from "./internal-notes.ts";
import { operatorName } from "./operator-identity.ts";
import type { RouterDeps } from "./router-deps.ts";

export const CANNED_COMMAND = /^\/r(?:@\w+)?(?:\s+(.*))?$/is;

/** How much of a refused name an answer quotes. */
const QUOTED_MAX = 40;

export async function answerCanned(
	work: Work,
	deps: RouterDeps,
	message: TelegramMessage,
	match: RegExpExecArray,
) {
	const customerId = await topicCustomer(work, deps, message);
	const texts = deps.texts;
	const say = (text: string) => answerOperators(work, deps, customerId, text);
	const list = async () => {
		const names = await listCanned(work);
		return names.length === 0
			? texts.get("cannedListEmpty")
			: texts.get("cannedList", {
					names: names.map((n) => `${n.name} (${n.locales.join(", ")})`).join(", "),
				});
	};
	const words = (match[1] ?? "").trim().split(/\s+/).filter(Boolean);
	const [first, name, locale, ...rest] = words;
	if (!first) return say(await list());
	const badName = (shown: string) =>
		say(texts.get("cannedBadName", { name: shown.slice(0, QUOTED_MAX) }));
	const validName = (candidate: string | undefined) =>
		candidate !== undefined && CANNED_NAME.test(candidate) && !RESERVED_NAMES.includes(candidate);
	if (first === "save" || first === "del") {
		if (rest.length > 0 || !name) return say(texts.get("cannedUsage"));
		if (!validName(name)) return badName(name);
		if (locale !== undefined && !CANNED_LOCALES.includes(locale as Locale))
			return say(
				texts.get("cannedBadLocale", {
					locale: locale.slice(0, QUOTED_MAX),
					locales: CANNED_LOCALES.join(", "),
				}),
			);
		const chosen = locale as Locale | undefined;
		if (first === "del") {
			const deleted = await deleteCanned(work, name, chosen);
			return say(
				deleted > 0
					? texts.get("cannedDeleted", { name })
					: `${texts.get("cannedUnknown", { name })}\n${await list()}`,
			);
		}
		const source = explicitReply(message);
		if (!source) return say(texts.get("cannedNoReply"));
		const text = withoutNoteMarker(textOf(source));
		if (!text) return say(texts.get("cannedNoText"));
		const saved = chosen ?? deps.defaultLocale;
		await saveCanned(work, name, saved, text);
		return say(texts.get("cannedSaved", { name, locale: saved }));
	}
	if (words.length > 1) return say(texts.get("cannedUsage"));
	if (!validName(first)) return badName(first);
	if (!customerId) return say(texts.get("cannedInGeneral"));
	const from = message.from;
	const result = await sendCanned(work, first, deps.defaultLocale, {
		topicId: message.message_thread_id as number,
		groupId: deps.groupId,
		groupKey: deps.groupKey,
		replyToTelegramMessageId: explicitReply(message)?.message_id,
		operatorId: from?.id,
		operatorName: operatorName(message),
		operatorUsername: from?.username,
		anonymous: Boolean(message.sender_chat),
	});
	if (!result) return;
	if ("unknown" in result)
		return say(`${texts.get("cannedUnknown", { name: first })}\n${await list()}`);
	await say(texts.get("cannedSentNotice", { name: first, text: result.text }));
}
