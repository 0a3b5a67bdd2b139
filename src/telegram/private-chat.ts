/**
 * A customer writing to the bot (SPEC §3.1): /start with its payloads, the question and every
 * later message, the phone number, edits, and the flood guard.
 */
import type { TelegramMessage } from "gramio";
import { applyEntryContext, ENTRY_CONTEXT_ID } from "../core/entry-contexts.ts";
import { LINK_TOKEN, type LinkOutcome, linkTelegram } from "../core/linking.ts";
import {
	acceptTelegramMessage,
	editCustomerMessage,
	savePhone,
	upsertTelegramCustomer,
} from "../core/telegram-customers.ts";
import type { Work } from "../core/unit-of-work.ts";
import { catalogues } from "../i18n/texts.ts";
import { isCopyable, mediaOf, personOf, startPayload, textOf } from "./incoming.ts";
import type { RouterDeps } from "./router-deps.ts";

const linkReplies: Partial<
	Record<LinkOutcome, "dmLinkInvalid" | "dmLinkUsed" | "dmLinkExpired" | "dmAlreadyLinked">
> = {
	invalid: "dmLinkInvalid",
	used: "dmLinkUsed",
	expired: "dmLinkExpired",
	already: "dmAlreadyLinked",
};

/** The "Skip" button's text in any shipped language (the keyboard sends it as a message). */
const skipLabels = new Set(Object.values(catalogues).map((texts) => texts.dmSkipButton));

/** The flood guard answers once per window; later excess is dropped silently. */
const warnedUntil = new Map<number, number>();

function overLimit(deps: RouterDeps, userId: number): "ok" | "warn" | "silent" {
	const wait = deps.limiter.tryTake("telegramDm", String(userId));
	if (wait === 0) return "ok";
	const now = Date.now();
	if ((warnedUntil.get(userId) ?? 0) > now) return "silent";
	warnedUntil.set(userId, now + wait * 1000);
	if (warnedUntil.size > 10_000)
		for (const [id, until] of warnedUntil) if (until < now) warnedUntil.delete(id);
	return "warn";
}

async function onStart(work: Work, deps: RouterDeps, message: TelegramMessage, payload: string) {
	const person = personOf(message.from as NonNullable<TelegramMessage["from"]>);
	if (LINK_TOKEN.test(payload) || payload.startsWith("link_")) {
		const { outcome, customerId } = await linkTelegram(work, payload, person, deps.defaultLocale);
		const reply = linkReplies[outcome];
		if (reply) {
			const { customer } = await upsertTelegramCustomer(work, person, deps.defaultLocale);
			await work.enqueue(customerId ?? customer.id, { kind: "dm_text", text: reply });
		}
		return;
	}
	const { customer } = await upsertTelegramCustomer(work, person, deps.defaultLocale);
	if (ENTRY_CONTEXT_ID.test(payload)) await applyEntryContext(work, customer.id, payload);
	await work.enqueue(customer.id, { kind: "dm_text", text: "dmGreeting" });
}

export async function onPrivateMessage(work: Work, deps: RouterDeps, message: TelegramMessage) {
	const from = message.from;
	if (!from || from.is_bot) return;
	const payload = startPayload(message);
	if (payload !== undefined) return onStart(work, deps, message, payload);
	const { customer } = await upsertTelegramCustomer(work, personOf(from), deps.defaultLocale);
	const limit = overLimit(deps, from.id);
	if (limit !== "ok") {
		if (limit === "warn") await work.enqueue(customer.id, { kind: "dm_text", text: "dmSlowDown" });
		return;
	}
	if (message.contact) {
		if (message.contact.user_id === from.id)
			await savePhone(work, customer.id, message.contact.phone_number);
		else
			await work.enqueue(customer.id, {
				kind: "dm_text",
				text: "dmContactNotYours",
				keyboard: "phone",
			});
		return;
	}
	if (
		message.text &&
		skipLabels.has(message.text.trim()) &&
		customer.phoneAskedAt &&
		!customer.phone
	) {
		await work.enqueue(customer.id, {
			kind: "dm_text",
			text: "dmPhoneSkipped",
			keyboard: "remove",
		});
		return;
	}
	if (!isCopyable(message)) {
		await work.enqueue(customer.id, { kind: "dm_text", text: "dmUnsupported" });
		return;
	}
	await acceptTelegramMessage(work, {
		customer,
		dmMessageId: message.message_id,
		text: textOf(message),
		entities: message.entities ?? message.caption_entities,
		media: mediaOf(message),
		replyToDmMessageId: message.reply_to_message?.message_id,
	});
}

export async function onPrivateEdit(work: Work, message: TelegramMessage) {
	if (!message.from || message.from.is_bot) return;
	await editCustomerMessage(work, {
		chatId: message.chat.id,
		dmMessageId: message.message_id,
		text: textOf(message),
	});
}
