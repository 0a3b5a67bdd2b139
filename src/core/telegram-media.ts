/**
 * Files that live in Telegram (a customer's or an operator's): recorded by their file id, the
 * bytes stay with Telegram until the media proxy fetches them.
 */
import { type MediaKind, media } from "../db/schema.ts";
import { type MediaRef, mediaRefColumns } from "./stored-message.ts";
import type { Work } from "./unit-of-work.ts";

/** A file in a Telegram message, as the Telegram door hands it to the core. */
export interface TelegramMedia {
	kind: MediaKind;
	fileId: string;
	mimeType: string;
	fileName?: string;
	size?: number;
	duration?: number;
}

/** A file that lives in Telegram (a customer's or an operator's), recorded by its file id. */
export async function storeTelegramMedia(
	work: Work,
	customerId: string,
	file: TelegramMedia,
): Promise<MediaRef | null> {
	const [row] = await work.tx
		.insert(media)
		.values({
			customerId,
			kind: file.kind,
			mimeType: file.mimeType,
			fileName: file.fileName ?? null,
			size: file.size ?? 0,
			duration: file.duration ?? null,
			telegramFileId: file.fileId,
		})
		.returning(mediaRefColumns);
	return row ?? null;
}
