/**
 * File storage of the Bot API double: every uploaded or test-registered file gets a `file_id`,
 * a `file_unique_id` and a `file_path` so `getFile` + `GET /file/bot<token>/<path>` return the
 * same bytes, as with Telegram.
 */
import type {
	TelegramAnimation,
	TelegramAudio,
	TelegramDocument,
	TelegramMessage,
	TelegramPhotoSize,
	TelegramSticker,
	TelegramVideo,
	TelegramVideoNote,
	TelegramVoice,
} from "gramio";

export type FileKind =
	| "photo"
	| "document"
	| "voice"
	| "audio"
	| "video"
	| "animation"
	| "video_note"
	| "sticker";

export const FILE_KINDS: readonly FileKind[] = [
	"photo",
	"document",
	"voice",
	"audio",
	"video",
	"animation",
	"video_note",
	"sticker",
];

/** What a test gives to register a file. `bytes` as a string is UTF-8 encoded. */
export interface FileSpec {
	bytes: Uint8Array | ArrayBuffer | string;
	mimeType?: string;
	fileName?: string;
	width?: number;
	height?: number;
	duration?: number;
	/** Stickers only. */
	emoji?: string;
}

export interface StoredFile {
	fileId: string;
	fileUniqueId: string;
	kind: FileKind;
	bytes: Uint8Array;
	mimeType?: string;
	fileName?: string;
	filePath: string;
	width?: number;
	height?: number;
	duration?: number;
	emoji?: string;
	/**
	 * Photos come in several sizes, smallest first, each its own file (like Telegram). All sizes
	 * share this array; the last one holds the original bytes, the first a shorter prefix, so a
	 * service that downloads `photo[0]` instead of the largest size gets visibly wrong bytes.
	 */
	photoSizes?: TelegramPhotoSize[];
}

/** Telegram's limit for bot downloads via getFile. */
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

const DIRS: Record<FileKind, string> = {
	photo: "photos",
	document: "documents",
	voice: "voice",
	audio: "music",
	video: "videos",
	animation: "animations",
	video_note: "video_notes",
	sticker: "stickers",
};

const DEFAULT_EXT: Record<FileKind, string> = {
	photo: "jpg",
	document: "bin",
	voice: "oga",
	audio: "mp3",
	video: "mp4",
	animation: "mp4",
	video_note: "mp4",
	sticker: "webp",
};

function toBytes(bytes: FileSpec["bytes"]): Uint8Array {
	if (typeof bytes === "string") return new TextEncoder().encode(bytes);
	if (bytes instanceof Uint8Array) return bytes;
	return new Uint8Array(bytes);
}

function extensionOf(kind: FileKind, fileName?: string, mimeType?: string): string {
	const fromName = fileName?.match(/\.([A-Za-z0-9]{1,8})$/)?.[1];
	if (fromName) return fromName.toLowerCase();
	const fromMime = mimeType?.split("/")[1]?.replace(/[^a-z0-9]/gi, "");
	if (fromMime && kind === "document") return fromMime.slice(0, 8);
	return DEFAULT_EXT[kind];
}

export class FileStore {
	private readonly byId = new Map<string, StoredFile>();
	private readonly byPath = new Map<string, StoredFile>();
	/** Survives {@link clear}: file ids are never reused within one double. */
	private counter = 0;

	/** Stores bytes as a file of the given kind; photos also get a smaller size. */
	register(kind: FileKind, spec: FileSpec): StoredFile {
		const bytes = toBytes(spec.bytes);
		if (kind !== "photo") return this.store(kind, bytes, spec);
		const width = spec.width ?? 800;
		const height = spec.height ?? 600;
		const small = this.store("photo", bytes.slice(0, Math.max(1, Math.floor(bytes.length / 4))), {
			...spec,
			width: 90,
			height: Math.max(1, Math.round((90 * height) / width)),
		});
		const large = this.store("photo", bytes, { ...spec, width, height });
		const sizes = [small, large].map(
			(f): TelegramPhotoSize => ({
				file_id: f.fileId,
				file_unique_id: f.fileUniqueId,
				width: f.width ?? width,
				height: f.height ?? height,
				file_size: f.bytes.length,
			}),
		);
		small.photoSizes = sizes;
		large.photoSizes = sizes;
		return large;
	}

	private store(kind: FileKind, bytes: Uint8Array, spec: Omit<FileSpec, "bytes">): StoredFile {
		const n = ++this.counter;
		const random = Math.random().toString(36).slice(2, 10);
		const file: StoredFile = {
			fileId: `${kind.toUpperCase()}-${n}-${random}`,
			fileUniqueId: `U${n}${random.slice(0, 4)}`,
			kind,
			bytes,
			filePath: `${DIRS[kind]}/file_${n}.${extensionOf(kind, spec.fileName, spec.mimeType)}`,
			...(spec.mimeType !== undefined ? { mimeType: spec.mimeType } : {}),
			...(spec.fileName !== undefined ? { fileName: spec.fileName } : {}),
			...(spec.width !== undefined ? { width: spec.width } : {}),
			...(spec.height !== undefined ? { height: spec.height } : {}),
			...(spec.duration !== undefined ? { duration: spec.duration } : {}),
			...(spec.emoji !== undefined ? { emoji: spec.emoji } : {}),
		};
		this.byId.set(file.fileId, file);
		this.byPath.set(file.filePath, file);
		return file;
	}

	get(fileId: string): StoredFile | undefined {
		return this.byId.get(fileId);
	}

	getByPath(path: string): StoredFile | undefined {
		return this.byPath.get(path);
	}

	clear(): void {
		this.byId.clear();
		this.byPath.clear();
	}
}

/** The message fields Telegram sets for a file of this kind (`photo`, `document`, ...). */
export function mediaFields(file: StoredFile): Partial<TelegramMessage> {
	const base = {
		file_id: file.fileId,
		file_unique_id: file.fileUniqueId,
		file_size: file.bytes.length,
	};
	const mime = file.mimeType !== undefined ? { mime_type: file.mimeType } : {};
	const name = file.fileName !== undefined ? { file_name: file.fileName } : {};
	const duration = file.duration ?? 1;
	const width = file.width ?? 640;
	const height = file.height ?? 480;
	switch (file.kind) {
		case "photo":
			return { photo: file.photoSizes ?? [{ ...base, width, height }] };
		case "document":
			return { document: { ...base, ...name, ...mime } satisfies TelegramDocument };
		case "voice":
			return { voice: { ...base, duration, ...mime } satisfies TelegramVoice };
		case "audio":
			return { audio: { ...base, duration, ...name, ...mime } satisfies TelegramAudio };
		case "video":
			return {
				video: { ...base, width, height, duration, ...name, ...mime } satisfies TelegramVideo,
			};
		case "animation":
			return {
				animation: {
					...base,
					width,
					height,
					duration,
					...name,
					...mime,
				} satisfies TelegramAnimation,
			};
		case "video_note":
			return { video_note: { ...base, length: width, duration } satisfies TelegramVideoNote };
		case "sticker":
			return {
				sticker: {
					...base,
					type: "regular",
					width: file.width ?? 512,
					height: file.height ?? 512,
					is_animated: false,
					is_video: false,
					...(file.emoji !== undefined ? { emoji: file.emoji } : {}),
				} satisfies TelegramSticker,
			};
	}
}

/** The Telegram `file_id` of a message field value (the largest photo size for photos). */
export function fileIdOf(value: unknown): string | undefined {
	if (Array.isArray(value)) return fileIdOf(value.at(-1));
	if (typeof value === "object" && value !== null && "file_id" in value) {
		const id = (value as { file_id: unknown }).file_id;
		return typeof id === "string" ? id : undefined;
	}
	return undefined;
}
