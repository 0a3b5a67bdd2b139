/**
 * The shared parts of every Bot API method that sends or edits a message in the double:
 * resolving the target chat/thread/reply, validating texts, captions, keyboards and files the
 * way Telegram does, and storing the resulting message.
 */
import type { TelegramInlineKeyboardMarkup, TelegramMessage, TelegramMessageEntity } from "gramio";
import { badRequest } from "./telegram-double-errors.ts";
import { type FileKind, mediaFields, type StoredFile } from "./telegram-double-files.ts";
import type { ChatState, DoubleModel, MessageContent } from "./telegram-double-model.ts";
import {
	boolParam,
	intParam,
	objParam,
	type Params,
	requireInt,
	strParam,
} from "./telegram-double-params.ts";
import type { UpdateQueue } from "./telegram-double-updates.ts";

/** What every method handler receives. */
export interface MethodContext {
	params: Params;
	/** Multipart uploads by field name. */
	files: Map<string, File>;
	model: DoubleModel;
	updates: UpdateQueue;
	/** Aborted when the client disconnects. */
	signal: AbortSignal;
}

/** A Bot API method: returns the `result` or throws a BotApiError. */
export type MethodHandler = (ctx: MethodContext) => unknown;

export interface Target {
	state: ChatState;
	threadId?: number;
	replyTo?: TelegramMessage;
}

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_CALLBACK_DATA_BYTES = 64;

interface ReplyRequest {
	messageId: number;
	chatId?: number;
	allowWithoutReply: boolean;
}

function replyRequest(params: Params): ReplyRequest | undefined {
	const parameters = objParam<Record<string, unknown>>(params, "reply_parameters");
	if (parameters) {
		const messageId = requireInt(parameters, "message_id", "message to be replied not found");
		const chatId = intParam(parameters, "chat_id");
		return {
			messageId,
			...(chatId !== undefined ? { chatId } : {}),
			allowWithoutReply: boolParam(parameters, "allow_sending_without_reply"),
		};
	}
	const legacy = intParam(params, "reply_to_message_id");
	if (legacy === undefined) return undefined;
	return {
		messageId: legacy,
		allowWithoutReply: boolParam(params, "allow_sending_without_reply"),
	};
}

/**
 * The chat, thread and replied message of a send. A reply without `message_thread_id` lands in
 * the replied message's topic, as in Telegram.
 */
export function resolveTarget(ctx: MethodContext): Target {
	const { model, params } = ctx;
	const state = model.chatFromParams(params);
	model.assertReachable(state);
	let threadId = model.isGroup(state) ? intParam(params, "message_thread_id") : undefined;
	const reply = replyRequest(params);
	let replyTo: TelegramMessage | undefined;
	if (reply) {
		const source = reply.chatId !== undefined ? model.chats.get(reply.chatId) : state;
		replyTo = source?.messages.get(reply.messageId);
		if (!replyTo && !reply.allowWithoutReply) throw badRequest("message to be replied not found");
		if (replyTo && source === state && threadId === undefined && replyTo.is_topic_message) {
			threadId = replyTo.message_thread_id;
		}
	}
	model.assertSendableThread(state, threadId);
	return {
		state,
		...(threadId !== undefined ? { threadId } : {}),
		...(replyTo ? { replyTo } : {}),
	};
}

/**
 * The inline keyboard to store on the message. Other keyboards (reply keyboards, remove,
 * force reply) are accepted but, as in Telegram, not part of the returned Message.
 */
export function inlineMarkup(params: Params): TelegramInlineKeyboardMarkup | undefined {
	const markup = objParam<Record<string, unknown>>(params, "reply_markup");
	if (!markup || markup.inline_keyboard === undefined) return undefined;
	const rows = markup.inline_keyboard;
	if (!Array.isArray(rows)) throw badRequest("can't parse inline keyboard markup JSON object");
	for (const row of rows) {
		if (!Array.isArray(row)) throw badRequest("can't parse inline keyboard button row");
		for (const button of row) {
			if (typeof button !== "object" || button === null || typeof button.text !== "string") {
				throw badRequest(
					"can't parse inline keyboard button: InlineKeyboardButton must be an Object",
				);
			}
			const keys = Object.keys(button).filter((k) => k !== "text");
			if (keys.length === 0) {
				throw badRequest(
					"can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
				);
			}
			const data = (button as { callback_data?: unknown }).callback_data;
			if (
				typeof data === "string" &&
				(data.length === 0 || new TextEncoder().encode(data).length > MAX_CALLBACK_DATA_BYTES)
			) {
				throw badRequest("BUTTON_DATA_INVALID");
			}
		}
	}
	return markup as unknown as TelegramInlineKeyboardMarkup;
}

function entitiesParam(params: Params, name: string): TelegramMessageEntity[] | undefined {
	const entities = objParam<TelegramMessageEntity[]>(params, name);
	if (entities !== undefined && !Array.isArray(entities)) {
		throw badRequest(`can't parse ${name} JSON object`);
	}
	return entities && entities.length > 0 ? entities : undefined;
}

/** `text` + `entities` of sendMessage/editMessageText, with Telegram's checks. */
export function textContent(params: Params): Pick<TelegramMessage, "text" | "entities"> {
	const text = strParam(params, "text");
	if (text === undefined || text.trim() === "") throw badRequest("message text is empty");
	if (text.length > MAX_TEXT) throw badRequest("message is too long");
	const entities = entitiesParam(params, "entities");
	return { text, ...(entities ? { entities } : {}) };
}

/** `caption` + `caption_entities` (both optional) of media sends and caption edits. */
export function captionContent(
	params: Params,
): Pick<TelegramMessage, "caption" | "caption_entities"> {
	const caption = strParam(params, "caption");
	if (caption === undefined || caption === "") return {};
	if (caption.length > MAX_CAPTION) throw badRequest("message caption is too long");
	const entities = entitiesParam(params, "caption_entities");
	return { caption, ...(entities ? { caption_entities: entities } : {}) };
}

/**
 * The file of a media send: a multipart upload (field `kind`, or `attach://<name>`), a known
 * `file_id`, or an HTTP URL (stored as a placeholder whose bytes are the URL).
 */
export async function resolveFile(
	ctx: MethodContext,
	kind: FileKind,
	value: unknown,
	extra: { width?: number; height?: number; duration?: number } = {},
): Promise<StoredFile> {
	const { model } = ctx;
	let upload: File | undefined;
	if (typeof value === "string" && value.startsWith("attach://")) {
		upload = ctx.files.get(value.slice("attach://".length));
		if (!upload) throw badRequest(`can't find attached file "${value}"`);
	} else if (typeof value === "object" && value !== null) {
		upload = ctx.files.get(kind);
	}
	if (upload) {
		if (upload.size === 0) throw badRequest("file must be non-empty");
		return model.files.register(kind, {
			bytes: new Uint8Array(await upload.arrayBuffer()),
			...(upload.type ? { mimeType: upload.type.split(";")[0] } : {}),
			...(upload.name && upload.name !== "blob" ? { fileName: upload.name } : {}),
			...extra,
		});
	}
	if (typeof value !== "string" || value === "") {
		throw badRequest(`there is no ${kind} in the request`);
	}
	if (/^https?:\/\//.test(value)) return model.files.register(kind, { bytes: value, ...extra });
	const known = model.files.get(value);
	if (!known) throw badRequest("wrong file identifier/HTTP URL specified");
	if (known.kind !== kind) throw badRequest("type of file mismatch");
	return known;
}

/** Extra numeric attributes a client may give with a media upload. */
export function mediaExtras(params: Params): {
	width?: number;
	height?: number;
	duration?: number;
} {
	const width = intParam(params, "width");
	const height = intParam(params, "height");
	const duration = intParam(params, "duration");
	return {
		...(width !== undefined ? { width } : {}),
		...(height !== undefined ? { height } : {}),
		...(duration !== undefined ? { duration } : {}),
	};
}

/** Media content of a message: the file fields plus caption. */
export function mediaContent(file: StoredFile, params: Params): MessageContent {
	const spoiler = boolParam(params, "has_spoiler") ? { has_media_spoiler: true as const } : {};
	return { ...mediaFields(file), ...captionContent(params), ...spoiler };
}

/** Stores a bot-sent message in the target chat and returns it. */
export function deliver(
	ctx: MethodContext,
	target: Target,
	content: Partial<TelegramMessage>,
	extra: Partial<TelegramMessage> = {},
): TelegramMessage {
	const { model } = ctx;
	const markup = inlineMarkup(ctx.params);
	return model.appendMessage(target.state, {
		...model.threadFields(target.state, target.threadId, target.replyTo),
		from: model.bot,
		...content,
		...extra,
		...(markup ? { reply_markup: markup } : {}),
	});
}

/** The message a bot may edit: exists, was sent by the bot, chat reachable. */
export function editableMessage(ctx: MethodContext): {
	state: ChatState;
	message: TelegramMessage;
} {
	const { model, params } = ctx;
	if (params.inline_message_id !== undefined) throw badRequest("MESSAGE_ID_INVALID");
	const state = model.chatFromParams(params);
	model.assertReachable(state);
	const id = intParam(params, "message_id");
	if (id === undefined) throw badRequest("message identifier is not specified");
	const message = state.messages.get(id);
	if (!message) throw badRequest("message to edit not found");
	if (message.from?.id !== model.bot.id) throw badRequest("message can't be edited");
	return { state, message };
}

/** Drops the given keys from a message copy (used to replace optional fields on edit). */
export function without(
	message: TelegramMessage,
	keys: readonly (keyof TelegramMessage)[],
): TelegramMessage {
	const copy: TelegramMessage = { ...message };
	for (const key of keys) delete copy[key];
	return copy;
}

export function sameJson(a: unknown, b: unknown): boolean {
	return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
