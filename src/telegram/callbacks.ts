/**
 * Button presses: status buttons and "Take" on the topic card (any member of the support
 * group; presses from anywhere else are ignored), and in the private chat "✅ Resolved" and the
 * 1–5 rating, and "Link" / "Cancel" on a link confirmation. Each press gets its toast after the change committed.
 */
import { eq } from "drizzle-orm";
import type { TelegramCallbackQuery } from "gramio";
import { cancelLink, confirmLink, type LinkRefusal } from "../core/linking.ts";
import { recordRating } from "../core/ratings.ts";
import { changeStatus } from "../core/status.ts";
import { topicOwner } from "../core/support-groups.ts";
import { localeOf } from "../core/telegram-customers.ts";
import type { Work } from "../core/unit-of-work.ts";
import { customers, type TicketStatus, ticketStatuses } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import { TAKE_CALLBACK } from "./card.ts";
import { personOf } from "./incoming.ts";
import { LINK_CALLBACK } from "./private-chat.ts";
import type { AfterCommit, RouterDeps } from "./router-deps.ts";
import { onTakeButton } from "./take-button.ts";

function answer(deps: RouterDeps, after: AfterCommit, query: TelegramCallbackQuery, text?: string) {
	after.push(() =>
		deps.api.answerCallbackQuery({ callback_query_id: query.id, ...(text ? { text } : {}) }),
	);
}

async function onCardButton(
	work: Work,
	deps: RouterDeps,
	query: TelegramCallbackQuery,
	after: AfterCommit,
) {
	const wanted = query.data?.slice("status:".length) as TicketStatus;
	const card = query.message;
	const topicId = card && "message_thread_id" in card ? card.message_thread_id : undefined;
	if (!ticketStatuses.includes(wanted) || topicId === undefined) return answer(deps, after, query);
	const [customer] = await work.tx
		.select({ id: customers.id, status: customers.status })
		.from(customers)
		.where(topicOwner(topicId, deps.groupKey))
		.limit(1);
	if (!customer) return answer(deps, after, query);
	const shown = deps.texts.get(`status${wanted}` as TextKey);
	if (wanted === "NEW") return answer(deps, after, query, deps.texts.get("callbackNotAllowed"));
	if (customer.status === wanted)
		return answer(deps, after, query, deps.texts.get("callbackStatusSame", { status: shown }));
	await changeStatus(work, customer.id, wanted, `operator:${query.from.id}`);
	answer(deps, after, query, deps.texts.get("callbackStatusSet", { status: shown }));
}

async function onCustomerButton(
	work: Work,
	deps: RouterDeps,
	query: TelegramCallbackQuery,
	after: AfterCommit,
) {
	const [customer] = await work.tx
		.select({ id: customers.id, status: customers.status, locale: customers.locale })
		.from(customers)
		.where(eq(customers.telegramUserId, query.from.id))
		.limit(1);
	if (!customer) return answer(deps, after, query);
	const texts = deps.textsFor(customer.locale);
	if (query.data === "resolve") {
		if (customer.status === "CLOSED")
			return answer(
				deps,
				after,
				query,
				texts.get("callbackStatusSame", { status: texts.get("statusCLOSED") }),
			);
		await changeStatus(work, customer.id, "CLOSED", "customer");
		return answer(deps, after, query, texts.get("callbackThanks"));
	}
	const rating = Number(query.data?.slice("rate:".length));
	if (!Number.isInteger(rating) || rating < 1 || rating > 5) return answer(deps, after, query);
	// Once per close, whichever channel rated first (an old rating message pressed again, or
	// after rating on the website, changes nothing).
	if (!(await recordRating(work, customer.id, { rating })))
		return answer(deps, after, query, texts.get("callbackNothingToRate"));
	await work.enqueue(customer.id, { kind: "dm_text", text: "dmRated", vars: { rating } });
	answer(deps, after, query, texts.get("callbackThanks"));
}

/**
 * "Link" / "Cancel" on a link confirmation. Only the account the confirmation was
 * sent to, in its own chat, while the token is valid: anyone else's press changes nothing.
 * The confirmation loses its buttons once answered, so it cannot be pressed again by mistake.
 */
async function onLinkButton(
	work: Work,
	deps: RouterDeps,
	query: TelegramCallbackQuery,
	after: AfterCommit,
	match: RegExpExecArray,
) {
	const texts = deps.textsFor(localeOf(query.from.language_code, deps.defaultLocale));
	const chatId = query.message?.chat.id;
	if (chatId !== query.from.id)
		return answer(deps, after, query, texts.get("callbackLinkNotYours"));
	const token = `link_${match[2]}`;
	const result =
		match[1] === "yes"
			? await confirmLink(work, token, personOf(query.from), deps.defaultLocale)
			: await cancelLink(work, token, query.from.id);
	const shown =
		"refusal" in result
			? texts.get(refusalTexts[result.refusal])
			: "cancelled" in result
				? texts.get("dmLinkCancelled")
				: undefined;
	answer(deps, after, query, shown);
	const messageId = query.message?.message_id;
	if (messageId === undefined) return;
	after.push(() =>
		shown
			? deps.api.editMessageText({ chat_id: chatId, message_id: messageId, text: shown })
			: deps.api.editMessageReplyMarkup({ chat_id: chatId, message_id: messageId }),
	);
}

const refusalTexts: Record<LinkRefusal, TextKey> = {
	invalid: "dmLinkInvalid",
	used: "dmLinkUsed",
	expired: "dmLinkExpired",
	already: "dmAlreadyLinked",
};

export async function onCallback(
	work: Work,
	deps: RouterDeps,
	query: TelegramCallbackQuery,
	after: AfterCommit,
) {
	const chatId = query.message?.chat.id;
	const data = query.data ?? "";
	if (chatId === deps.groupId && data.startsWith("status:"))
		return onCardButton(work, deps, query, after);
	if (chatId === deps.groupId && data === TAKE_CALLBACK)
		return onTakeButton(work, deps, query, after);
	const link = LINK_CALLBACK.exec(data);
	if (link) return onLinkButton(work, deps, query, after, link);
	if (chatId === query.from.id && (data === "resolve" || data.startsWith("rate:")))
		return onCustomerButton(work, deps, query, after);
	// Anything else (another chat, stale or forged data) is ignored.
}
