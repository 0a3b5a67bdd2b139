/**
 * Files in the conversation: a web upload becomes a stored file plus a customer message that
 * carries it, in one transaction, and its copy to the topic is owed through the outbox.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { type MediaKind, media } from "../db/schema.ts";
import { recordCustomerMessages } from "./customer-messages.ts";
import { AppError } from "./errors.ts";
import { MAX_TEXT } from "./messages.ts";
import { conversationsExceeded } from "./quotas.ts";
import type { MediaRef, StoredMessage } from "./stored-message.ts";
import { type CoreDeps, commit } from "./unit-of-work.ts";

export interface UploadInput {
	customerId: string;
	kind: MediaKind;
	mimeType: string;
	fileName: string;
	bytes: Uint8Array;
	caption?: string;
	/** As for a text message (`CustomerMessageInput.openingLimit`): the conversation quota's cap. */
	openingLimit?: number;
}

/** Telegram's limit for a caption. */
export const MAX_CAPTION = 1024;

/**
 * The text of a file sent without a caption: its name, as the older widget expects to find it in
 * history (it shows a captionless file by its text). Whoever shows the file itself skips it.
 */
export const fileOnlyText = (fileName: string) => `📎 ${fileName}`;

export async function acceptCustomerUpload(
	deps: CoreDeps,
	input: UploadInput,
): Promise<{ message: StoredMessage; media: MediaRef }> {
	const caption = input.caption?.trim() ?? "";
	if (caption.length > Math.min(MAX_TEXT, MAX_CAPTION))
		throw new AppError("MESSAGE_TOO_LONG", `The caption is longer than ${MAX_CAPTION} characters.`);
	return commit(deps, async (work) => {
		const [row] = await work.tx
			.insert(media)
			.values({
				customerId: input.customerId,
				kind: input.kind,
				mimeType: input.mimeType,
				fileName: input.fileName,
				size: input.bytes.byteLength,
				bytes: input.bytes,
			})
			.returning({ id: media.id });
		if (!row) throw new Error("media insert returned nothing");
		const ref: MediaRef = {
			id: row.id,
			kind: input.kind,
			mimeType: input.mimeType,
			fileName: input.fileName,
			size: input.bytes.byteLength,
			duration: null,
		};
		const [recorded] = await recordCustomerMessages(work, [
			{
				customerId: input.customerId,
				channel: "web",
				text: caption || fileOnlyText(input.fileName),
				attachment: ref,
				openingLimit: input.openingLimit,
			},
		]);
		// Over the conversation quota: the file goes with the rolled back transaction.
		if (recorded?.kind !== "stored") throw conversationsExceeded();
		return { message: recorded.message, media: ref };
	});
}

/** A stored file, for the media proxy: its bytes when we hold them, else its Telegram file id. */
export async function mediaById(database: Database, id: string) {
	const [row] = await database.db.select().from(media).where(eq(media.id, id)).limit(1);
	return row ?? null;
}
