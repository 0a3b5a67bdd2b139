/**
 * A customer writing to the bot: /start with its payloads, the question and every
 * later message, the phone number, edits, and the flood guard.
 */
import type { TelegramMessage } from "gramio";
import { applyEntryContext, ENTRY_CONTEXT_ID } from "../core/entry-contexts.ts";
import { type LinkRefusal, offerLink } from "../core/linking.ts";
import {
	acceptTelegramMessage,
	editCustomerMessage,
	localeOf,
	savePhone,
	upsertTelegramCustomer,
} from "../core/telegram-customers.ts";
import { stripControlCharacters } from "../core/text.ts";
import type { Work } from "../core/unit-of-work.ts";
import { catalogues } from "../i18n/texts.ts";
import { displayTime } from "./display-time.ts";
import { isCopyable, mediaOf, personOf, startPayload, textOf } from "./incoming.ts";
import type { AfterCommit, RouterDeps } from "./router-deps.ts";

const linkReplies: Record<
	LinkRefusal,
	"dmLinkInvalid" | "dmLinkUsed" | "dmLinkExpired" | "dmAlreadyLinked"
> = {
	invalid: "dmLinkInvalid",
	used: "dmLinkUsed",
	expired: "dmLinkExpired",
	already: "dmAlreadyLinked",
};

/** Callback data of the confirmation's buttons: `link:yes:<32 hex>` / `link:no:<32 hex>`. */
export const LINK_CALLBACK = /^link:(yes|no):([0-9a-f]{32})$/;

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

/**
 * Answers in the private chat sent straight after the update's commit, not through the outbox.
 * The link flow answers people who may have no customer row, and must not get one: an unknown,
 * used or expired token, or a valid one not yet confirmed, changes nothing, while
 * every outbox item belongs to a customer. Nothing is lost if such a send fails: the answer
 * carries no state, and opening the link again asks again.
 */
function replyAfterCommit(
	deps: RouterDeps,
	after: AfterCommit,
	chatId: number,
	text: string,
	buttons?: { text: string; callback_data: string }[],
) {
	after.push(() =>
		deps.api.sendMessage({
			chat_id: chatId,
			text,
			...(buttons ? { reply_markup: { inline_keyboard: [buttons] } } : {}),
		}),
	);
}

async function onLinkStart(
	work: Work,
	deps: RouterDeps,
	message: TelegramMessage,
	payload: string,
	after: AfterCommit,
) {
	const from = message.from as NonNullable<TelegramMessage["from"]>;
	const texts = deps.textsFor(localeOf(from.language_code, deps.defaultLocale));
	const result = await offerLink(work, payload, from.id);
	if ("refusal" in result)
		return replyAfterCommit(deps, after, from.id, texts.get(linkReplies[result.refusal]));
	const { offer } = result;
	const hex = payload.slice("link_".length);
	replyAfterCommit(
		deps,
		after,
		from.id,
		texts.get("dmLinkConfirm", {
			page: offer.sourceUrl ?? texts.get("dmLinkUnknownPage"),
			time: `${displayTime(offer.startedAt, deps.timeZone)} (${deps.timeZone})`,
			count: offer.messageCount,
		}),
		[
			{ text: texts.get("dmLinkButton"), callback_data: `link:yes:${hex}` },
			{ text: texts.get("dmLinkCancelButton"), callback_data: `link:no:${hex}` },
		],
	);
}

async function onStart(
	work: Work,
	deps: RouterDeps,
	message: TelegramMessage,
	payload: string,
	after: AfterCommit,
) {
	const from = message.from as NonNullable<TelegramMessage["from"]>;
	// The flood guard covers /start too: a stream of them gets one warning.
	const limit = overLimit(deps, from.id);
	if (limit !== "ok") {
		if (limit === "warn")
			replyAfterCommit(
				deps,
				after,
				from.id,
				deps.textsFor(localeOf(from.language_code, deps.defaultLocale)).get("dmSlowDown"),
			);
		return;
	}
	if (payload.startsWith("link_")) return onLinkStart(work, deps, message, payload, after);
	const person = personOf(message.from as NonNullable<TelegramMessage["from"]>);
	const { customer } = await upsertTelegramCustomer(work, person, deps.defaultLocale);
	if (ENTRY_CONTEXT_ID.test(payload)) await applyEntryContext(work, customer.id, payload);
	await work.enqueue(customer.id, { kind: "dm_text", text: "dmGreeting" });
}

export async function onPrivateMessage(
	work: Work,
	deps: RouterDeps,
	message: TelegramMessage,
	after: AfterCommit = [],
) {
	const from = message.from;
	if (!from || from.is_bot) return;
	const payload = startPayload(message);
	if (payload !== undefined) return onStart(work, deps, message, payload, after);
	const { customer } = await upsertTelegramCustomer(work, personOf(from), deps.defaultLocale);
	const limit = overLimit(deps, from.id);
	if (limit !== "ok") {
		if (limit === "warn") await work.enqueue(customer.id, { kind: "dm_text", text: "dmSlowDown" });
		return;
	}
	if (message.contact) {
		if (message.contact.user_id === from.id)
			await savePhone(work, customer.id, stripControlCharacters(message.contact.phone_number));
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
