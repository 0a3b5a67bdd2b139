/**
 * Reading Telegram messages as plain data for the core: who wrote, what it carries, and whether
 * `copyMessage` can pass it on.
 */
import type { TelegramMessage, TelegramUser } from "gramio";
import type { TelegramPerson } from "../core/telegram-customers.ts";
import type { TelegramMedia } from "../core/telegram-media.ts";
import { stripControlCharacters as clean } from "../core/text.ts";

export function personOf(user: TelegramUser): TelegramPerson {
	return {
		id: user.id,
		// Telegram's texts are not refused (nobody could fix them) but stored without controls.
		firstName: clean(user.first_name),
		lastName: user.last_name === undefined ? undefined : clean(user.last_name),
		username: user.username,
		languageCode: user.language_code,
	};
}

/** The message's file, if it carries one (the largest photo size). */
export function mediaOf(message: TelegramMessage): TelegramMedia | undefined {
	const photo = message.photo?.at(-1);
	if (photo)
		return { kind: "image", fileId: photo.file_id, mimeType: "image/jpeg", size: photo.file_size };
	const files: [
		TelegramMedia["kind"],
		(
			| {
					file_id: string;
					file_size?: number;
					mime_type?: string;
					file_name?: string;
					duration?: number;
			  }
			| undefined
		),
		string,
	][] = [
		["document", message.document, "application/octet-stream"],
		["voice", message.voice, "audio/ogg"],
		["audio", message.audio, "audio/mpeg"],
		["video", message.video, "video/mp4"],
		["animation", message.animation, "video/mp4"],
		["video_note", message.video_note, "video/mp4"],
		["sticker", message.sticker, "image/webp"],
	];
	for (const [kind, file, fallbackType] of files) {
		if (!file) continue;
		return {
			kind,
			fileId: file.file_id,
			mimeType: file.mime_type ?? fallbackType,
			fileName: file.file_name === undefined ? undefined : clean(file.file_name),
			size: file.file_size,
			duration: file.duration,
		};
	}
	return undefined;
}

/** What copyMessage can copy; anything else gets a polite reply instead. */
export function isCopyable(message: TelegramMessage): boolean {
	return Boolean(
		message.text ||
			message.photo ||
			message.video ||
			message.animation ||
			message.document ||
			message.audio ||
			message.voice ||
			message.video_note ||
			message.sticker ||
			message.location ||
			message.venue ||
			message.poll ||
			message.dice,
	);
}

/**
 * A short text standing for a message in the stored conversation (history, digest, web view),
 * without control characters other than tab and newline: the database refuses NUL,
 * and what is stored is what the web view shows and what the bot re-sends.
 */
export function textOf(message: TelegramMessage): string {
	return clean(rawTextOf(message));
}

function rawTextOf(message: TelegramMessage): string {
	if (message.text !== undefined) return message.text;
	if (message.caption !== undefined) return message.caption;
	if (message.venue) return `📍 ${message.venue.title}, ${message.venue.address}`;
	if (message.location) return `📍 ${message.location.latitude}, ${message.location.longitude}`;
	if (message.poll) return `📊 ${message.poll.question}`;
	if (message.dice) return `${message.dice.emoji} ${message.dice.value}`;
	if (message.sticker?.emoji) return message.sticker.emoji;
	return "";
}

/**
 * Whether a stored text may stand for a message that was no text (what `textOf` gives a
 * location, venue, poll or dice), so a copy of the original is the only faithful one. A text
 * that merely looks like one is copied too, which costs nothing but a write.
 */
export function standsForNonText(text: string): boolean {
	return /^(📍|📊) /u.test(text) || /^(🎲|🎯|🏀|⚽|🎳|🎰) \d+$/u.test(text);
}

/** `/start <payload>` in a private chat: the payload, "" for a bare /start, undefined otherwise. */
export function startPayload(message: TelegramMessage): string | undefined {
	const match = /^\/start(?:@\w+)?(?:\s+(\S+))?\s*$/.exec(message.text ?? "");
	return match ? (match[1] ?? "") : undefined;
}
