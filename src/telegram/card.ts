/**
 * The pinned card at the top of every customer topic (SPEC §3.2): who the customer is, how they
 * reach us, where they came from, and the status with a button for every status one may choose.
 * Customer-provided values go in as plain text inside entities, never as markup.
 */

import { eq } from "drizzle-orm";
import { bold, type FormattableString, format, join } from "gramio";
import type { Database } from "../db/client.ts";
import { customers, type TicketStatus, ticketStatuses, webSessions } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import type { Texts } from "../i18n/texts.ts";
import { displayTime } from "./display-time.ts";

export interface CardView {
	displayName: string;
	telegramUsername: string | null;
	phone: string | null;
	web: boolean;
	telegram: boolean;
	sourceUrl: string | null;
	city: string | null;
	createdAt: Date;
	status: TicketStatus;
}

export interface RenderedCard {
	text: FormattableString;
	reply_markup: { inline_keyboard: { text: string; callback_data: string }[][] };
}

/** Status buttons: every status but the current one; NEW is never chosen by hand. */
export function statusButtons(texts: Texts, current: TicketStatus) {
	const choices = ticketStatuses.filter((status) => status !== current && status !== "NEW");
	return {
		inline_keyboard: [
			choices.map((status) => ({
				text: texts.get(`status${status}` as TextKey),
				callback_data: `status:${status}`,
			})),
		],
	};
}

export function renderCard(view: CardView, texts: Texts, timeZone: string): RenderedCard {
	const none = texts.get("cardNone");
	const channels = [
		view.web && texts.get("channelWeb"),
		view.telegram && texts.get("channelTelegram"),
	]
		.filter(Boolean)
		.join(", ");
	const line = (key: TextKey, value: string | null) =>
		format`${bold(texts.get(key))}: ${value || none}`;
	const text = join(
		[
			format`📋 ${bold(texts.get("cardTitle"))}`,
			line("cardName", view.displayName),
			line("cardUsername", view.telegramUsername ? `@${view.telegramUsername}` : null),
			line("cardPhone", view.phone),
			line("cardChannels", channels),
			line("cardSource", view.sourceUrl),
			line("cardCity", view.city),
			line("cardCreated", `${displayTime(view.createdAt, timeZone)} (${timeZone})`),
			line("cardStatus", texts.get(`status${view.status}` as TextKey)),
		],
		"\n",
	);
	return { text, reply_markup: statusButtons(texts, view.status) };
}

/** The card's data, read fresh from the database so an edit never shows a stale state. */
export async function loadCardView(
	database: Database,
	customerId: string,
): Promise<CardView | null> {
	const [row] = await database.db.select().from(customers).where(eq(customers.id, customerId));
	if (!row) return null;
	const [web] = await database.db
		.select({ id: webSessions.id })
		.from(webSessions)
		.where(eq(webSessions.customerId, customerId))
		.limit(1);
	return {
		displayName: row.displayName,
		telegramUsername: row.telegramUsername,
		phone: row.phone,
		web: Boolean(web),
		telegram: row.telegramUserId != null,
		sourceUrl: row.sourceUrl,
		city: row.city,
		createdAt: row.createdAt,
		status: row.status,
	};
}
