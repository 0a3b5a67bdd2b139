/**
 * The card with the customer's first message under it: one Telegram message that is both, so a
 * new ticket costs two group writes (the topic, this message). Here is what the question looks
 * like under the card, and the edit that keeps the two together: a change of the card keeps the
 * question under it, an edit of the question keeps the card above it.
 */
import { and, eq } from "drizzle-orm";
import { FormattableString, join } from "gramio";
import { fileOnlyText, mediaById } from "../core/media.ts";
import type { Database } from "../db/client.ts";
import { type media, messageCopies, messages } from "../db/schema.ts";
import type { RenderedCard } from "./card.ts";
import { CAPTION_MAX, customerHasWeb, entitiesIn, shiftEntities, TEXT_MAX } from "./copies.ts";
import { standsForNonText } from "./incoming.ts";
import type { TopicDeps } from "./topics.ts";

type MessageRow = typeof messages.$inferSelect;
type MediaRow = typeof media.$inferSelect;

/** What stands under the card: a text, or a caption (then the message is the medium). */
export interface Question {
	kind: "text" | "caption";
	body: FormattableString;
	/** The stored file of a message with one. */
	attachment: MediaRow | null;
}

/** Telegram media that carry a caption (a sticker or a round video has none). */
const CAPTIONED = new Set(["image", "document", "voice", "audio", "video", "animation"]);

/**
 * A web file's caption in the topic: `[WEB] 📎 name` and its text. A file sent without a caption
 * carries its name as its text (`fileOnlyText`): said once, not twice.
 */
export function fileCaption(prefix: string, attachment: { fileName: string | null }, text: string) {
	const name = fileOnlyText(attachment.fileName ?? "file");
	const said = text === name ? "" : text;
	return `${prefix}${name}${said ? `\n${said}` : ""}`;
}

/**
 * The message as it reads in the topic, prefixes as for any copy: `[WEB] text`, `[WEB] 📎 name`
 * and the text for a web file, `[TG] ` before a Telegram text when the customer also uses the web
 * chat (entities shifted to match).
 */
export async function questionOf(deps: TopicDeps, message: MessageRow): Promise<Question> {
	const attachment = message.mediaId ? await mediaById(deps.database, message.mediaId) : null;
	const kind = attachment ? "caption" : "text";
	if (message.channel === "web") {
		const prefix = deps.texts.get("webPrefix");
		const text = attachment
			? fileCaption(prefix, attachment, message.text)
			: `${prefix}${message.text}`;
		return { kind, body: new FormattableString(text, []), attachment };
	}
	const prefixed = message.text !== "" && (await customerHasWeb(deps.database, message.customerId));
	const prefix = prefixed ? deps.texts.get("telegramPrefix") : "";
	const entities = shiftEntities(message.entities, prefix.length) ?? [];
	return { kind, body: new FormattableString(`${prefix}${message.text}`, entities), attachment };
}

/**
 * Whether the message can stand under a card at all: a text, a web file, or a Telegram medium
 * with a caption. A location, a poll or a sticker is copied after the card instead.
 */
export function fitsUnderCard(message: MessageRow, question: Question): boolean {
	if (message.channel === "web") return true;
	if (question.attachment) return CAPTIONED.has(question.attachment.kind);
	return message.mediaId == null && message.text !== "" && !standsForNonText(message.text);
}

/** Telegram's limit for the question's kind. */
export const limitOf = (question: Question) => (question.kind === "text" ? TEXT_MAX : CAPTION_MAX);

/**
 * The card, a blank line and the question, or null when that is longer than `max` (UTF-16 code
 * units, as Telegram counts). `breaksTwice`: an upload is multipart, which carries each line
 * break as CRLF.
 */
export function underCard(
	card: RenderedCard,
	question: Question,
	max: number,
	breaksTwice = false,
): FormattableString | null {
	const body = question.body.text ? join([card.text, question.body], "\n\n") : card.text;
	const breaks = breaksTwice ? body.text.split("\n").length - 1 : 0;
	return body.text.length + breaks <= max ? body : null;
}

/** The card over as much of the question as fits (an edit made the question longer). */
function clippedUnderCard(card: RenderedCard, question: Question): FormattableString {
	const max = limitOf(question);
	const whole = underCard(card, question, max);
	if (whole) return whole;
	const room = Math.max(0, max - card.text.text.length - 3);
	const text = `${question.body.text.slice(0, room)}…`;
	const clipped = new FormattableString(text, entitiesIn(question.body.entities, 0, room) ?? []);
	return join([card.text, clipped], "\n\n");
}

/** The stored message whose topic copy is this card message, if the card carries one. */
export async function messageUnderCard(
	database: Database,
	groupId: number,
	cardMessageId: number,
): Promise<MessageRow | null> {
	const [row] = await database.db
		.select({ message: messages })
		.from(messageCopies)
		.innerJoin(messages, eq(messages.id, messageCopies.messageId))
		.where(
			and(
				eq(messageCopies.chatId, groupId),
				eq(messageCopies.telegramMessageId, cardMessageId),
				eq(messageCopies.kind, "topic"),
			),
		)
		.limit(1);
	return row?.message ?? null;
}

/**
 * Edits the card message to show `card`, keeping the question it carries (its current text):
 * `editMessageCaption` under a medium, `editMessageText` otherwise, the card's buttons kept.
 */
export async function editCardMessage(
	deps: TopicDeps,
	cardMessageId: number,
	card: RenderedCard,
): Promise<void> {
	const target = {
		chat_id: deps.groupId,
		message_id: cardMessageId,
		reply_markup: card.reply_markup,
	};
	const under = await messageUnderCard(deps.database, deps.groupId, cardMessageId);
	if (!under) {
		await deps.api.editMessageText({ ...target, text: card.text });
		return;
	}
	const question = await questionOf(deps, under);
	const body = clippedUnderCard(card, question);
	if (question.kind === "caption") await deps.api.editMessageCaption({ ...target, caption: body });
	else await deps.api.editMessageText({ ...target, text: body });
}
