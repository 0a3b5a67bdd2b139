/**
 * Files in the conversation: a web upload becomes a stored file plus a customer message that
 * carries it, in one transaction, and its copy to the topic is owed through the outbox.
 */
import { eq, getTableColumns, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { type MediaKind, media } from "../db/schema.ts";
import { createByteGate } from "./byte-gate.ts";
import { recordCustomerMessages } from "./customer-messages.ts";
import { AppError } from "./errors.ts";
import { dropped } from "./garbage.ts";
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
 * Bytes of files being written to (or read from) the database at once, in this process. A
 * statement carries its file as text, a third larger than the file, and the driver copies that
 * text into its message: several large files at once would cost several times their size.
 */
const FILE_BYTES_AT_ONCE = 32 * 1024 * 1024;
/** A transfer leaves about three times its size behind: the text and the driver's message. */
const fileTransfers = createByteGate(FILE_BYTES_AT_ONCE, (bytes) => dropped(3 * bytes));

/**
 * A file's bytes as a statement's parameter: base64 text, decoded by the database. Both drivers
 * would otherwise send `bytea` as hex (twice the size; PGlite builds it a byte at a time).
 */
const asBase64 = (bytes: Uint8Array) =>
	sql`decode(${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}, 'base64')`;

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
	const leave = await fileTransfers.enter(input.bytes.byteLength);
	try {
		return await storeUpload(deps, input, caption);
	} finally {
		leave();
	}
}

function storeUpload(deps: CoreDeps, input: UploadInput, caption: string) {
	const bytes = asBase64(input.bytes);
	return commit(deps, async (work) => {
		const [row] = await work.tx
			.insert(media)
			.values({
				customerId: input.customerId,
				kind: input.kind,
				mimeType: input.mimeType,
				fileName: input.fileName,
				size: input.bytes.byteLength,
				bytes,
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

/**
 * A stored file, for its copy to Telegram: its bytes when we hold them, else its Telegram file
 * id. The bytes travel as base64 (see `asBase64`), within the same budget as uploads being stored.
 */
export async function mediaById(database: Database, id: string) {
	const [head] = await database.db
		.select({ size: media.size })
		.from(media)
		.where(eq(media.id, id))
		.limit(1);
	if (!head) return null;
	const leave = await fileTransfers.enter(head.size);
	try {
		const { bytes: _, ...columns } = getTableColumns(media);
		const [row] = await database.db
			.select({ ...columns, base64: sql<string | null>`encode(${media.bytes}, 'base64')` })
			.from(media)
			.where(eq(media.id, id))
			.limit(1);
		if (!row) return null;
		const { base64, ...rest } = row;
		return {
			...rest,
			bytes: base64 === null ? null : Buffer.from(base64, "base64"),
		};
	} finally {
		leave();
	}
}

/**
 * `length` bytes of a stored file from `from` (0-based), for a download or a range of one; null
 * when the file is gone. Read as base64 within the budget of files in flight, as `mediaById`.
 */
export async function mediaSlice(
	database: Database,
	id: string,
	from: number,
	length: number,
): Promise<Uint8Array | null> {
	const leave = await fileTransfers.enter(length);
	try {
		const [row] = await database.query<{ part: string | null }>(sql`
			select encode(substring(bytes from ${from + 1} for ${length}), 'base64') as part
			from media where id = ${id}`);
		return row?.part == null ? null : Buffer.from(row.part, "base64");
	} finally {
		leave();
	}
}
