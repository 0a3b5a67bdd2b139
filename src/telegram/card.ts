/**
 * The pinned card at the top of every customer topic: who the customer is, how they
 * reach us, where they came from, and the status with a button for every status one may choose.
 * Customer-provided values go in as plain text inside entities, never as markup.
 */

import { bold, type FormattableString, format, join } from "gramio";
import { operatorLabel } from "../core/operators.ts";
import type { Database } from "../db/client.ts";
import { numberOrNull, rawStatement } from "../db/raw-sql.ts";
import { type TicketStatus, ticketStatuses, type VerifiedIdentity } from "../db/schema.ts";
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
	/** What the customer's site vouched for (a signed visitor): marked as verified. */
	identity?: VerifiedIdentity | null;
	/** The operator who has the ticket, as texts name them (`@username` or the name). */
	assignee?: string | null;
}

export interface RenderedCard {
	text: FormattableString;
	reply_markup: { inline_keyboard: { text: string; callback_data: string }[][] };
}

/** The "Take" button's callback data: the presser becomes the assignee of an unassigned ticket. */
export const TAKE_CALLBACK = "take";

/**
 * Status buttons: every status but the current one (NEW is never chosen by hand), and "Take" on
 * a row of its own.
 */
export function statusButtons(texts: Texts, current: TicketStatus) {
	const choices = ticketStatuses.filter((status) => status !== current && status !== "NEW");
	return {
		inline_keyboard: [
			choices.map((status) => ({
				text: texts.get(`status${status}` as TextKey),
				callback_data: `status:${status}`,
			})),
			[{ text: texts.get("cardTakeButton"), callback_data: TAKE_CALLBACK }],
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
			line("cardAssignee", view.assignee ?? null),
			...verifiedLines(view.identity, texts),
		],
		"\n",
	);
	return { text, reply_markup: statusButtons(texts, view.status) };
}

/**
 * The signed visitor's details, each marked as the site's word (✔): name, email and the site's
 * own fields, in the order it gave them.
 */
function verifiedLines(identity: VerifiedIdentity | null | undefined, texts: Texts) {
	if (!identity) return [];
	const mark = texts.get("cardVerified");
	const pairs: [string, string][] = [
		...(identity.name ? [[texts.get("cardName"), identity.name] as [string, string]] : []),
		...(identity.email ? [[texts.get("cardEmail"), identity.email] as [string, string]] : []),
		...Object.entries(identity.fields ?? {}),
	];
	return [format`✔ ${bold(mark)}`, ...pairs.map(([key, value]) => format`${bold(key)}: ${value}`)];
}

/** The card's data with where it is: the customer's topic and card message, if any. */
export interface PlacedCardView extends CardView {
	topicId: number | null;
	cardMessageId: number | null;
}

interface CardRow {
	display_name: string;
	telegram_username: string | null;
	phone: string | null;
	web: boolean;
	telegram: boolean;
	source_url: string | null;
	city: string | null;
	created_at: Date | string;
	status: TicketStatus;
	topic_id: number | string | null;
	card_message_id: number | string | null;
	identity: VerifiedIdentity | null;
	assignee_name: string | null;
	assignee_username: string | null;
}

/** One round trip for the card and its place (it was three: topic, customer, web session). */
const CARD_VIEW_SQL = `select c.display_name, c.telegram_username, c.phone, c.source_url, c.city,
	c.created_at, c.status, c.topic_id, c.card_message_id, c.identity,
	c.telegram_user_id is not null as telegram,
	exists (select 1 from web_sessions s where s.customer_id = c.id) as web,
	o.name as assignee_name, o.username as assignee_username
from customers c left join operators o on o.telegram_user_id = c.assignee_id
where c.id = $1::uuid`;

/** The card's data, read fresh from the database so an edit never shows a stale state. */
export async function loadCardView(
	database: Database,
	customerId: string,
): Promise<PlacedCardView | null> {
	const [row] = await rawStatement<CardRow>(database, CARD_VIEW_SQL, [customerId]);
	if (!row) return null;
	return {
		displayName: row.display_name,
		telegramUsername: row.telegram_username,
		phone: row.phone,
		web: row.web,
		telegram: row.telegram,
		sourceUrl: row.source_url,
		city: row.city,
		createdAt: new Date(row.created_at),
		status: row.status,
		topicId: numberOrNull(row.topic_id),
		cardMessageId: numberOrNull(row.card_message_id),
		identity: row.identity,
		assignee:
			row.assignee_name == null
				? null
				: operatorLabel({ name: row.assignee_name, username: row.assignee_username }),
	};
}
