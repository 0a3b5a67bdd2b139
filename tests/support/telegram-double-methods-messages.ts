/**
 * Bot API methods of the double that send, copy, edit, delete and pin messages.
 * Each entry validates like Telegram and stores the result in the model.
 */
import type {
	TelegramMessage,
	TelegramMessageId,
	TelegramMessageOrigin,
	TelegramPoll,
} from "gramio";
import { badRequest, ERR } from "./telegram-double-errors.ts";
import type { FileKind } from "./telegram-double-files.ts";
import { contentOf, isServiceMessage, type MessageContent } from "./telegram-double-model.ts";
import { intParam, numberParam, objParam, requireInt, strParam } from "./telegram-double-params.ts";
import {
	captionContent,
	deliver,
	editableMessage,
	inlineMarkup,
	type MethodContext,
	type MethodHandler,
	mediaContent,
	mediaExtras,
	resolveFile,
	resolveTarget,
	sameJson,
	textContent,
	without,
} from "./telegram-double-send.ts";

const CHAT_ACTIONS = new Set([
	"typing",
	"upload_photo",
	"record_video",
	"upload_video",
	"record_voice",
	"upload_voice",
	"upload_document",
	"choose_sticker",
	"find_location",
	"record_video_note",
	"upload_video_note",
]);

/** sendPhoto, sendDocument, ...: one handler per file kind. */
function sendMedia(kind: FileKind): MethodHandler {
	return async (ctx) => {
		const target = resolveTarget(ctx);
		const file = await resolveFile(ctx, kind, ctx.params[kind], mediaExtras(ctx.params));
		return deliver(ctx, target, mediaContent(file, ctx.params));
	};
}

function requiredNumber(ctx: MethodContext, name: string): number {
	const value = numberParam(ctx.params, name);
	if (value === undefined) throw badRequest(`${name} is empty`);
	return value;
}

/** The source message of a copy/forward, or Telegram's "not found" error. */
function sourceMessage(ctx: MethodContext, notFound: string): TelegramMessage {
	const source = ctx.model.chatFromParams(ctx.params, "from_chat_id");
	const id = intParam(ctx.params, "message_id");
	if (id === undefined) throw badRequest("message identifier is not specified");
	const message = source.messages.get(id);
	if (!message) throw badRequest(notFound);
	if (isServiceMessage(message)) throw badRequest("message can't be copied");
	return message;
}

/** Content of a copy: the source content, with the caption replaced when one is given. */
function copiedContent(ctx: MethodContext, source: TelegramMessage): MessageContent {
	const content = contentOf(source);
	if (source.text !== undefined || ctx.params.caption === undefined) return content;
	const { caption: _c, caption_entities: _e, ...rest } = content;
	return { ...rest, ...captionContent(ctx.params) };
}

function originOf(message: TelegramMessage): TelegramMessageOrigin {
	if (message.sender_chat) {
		return { type: "chat", date: message.date, sender_chat: message.sender_chat };
	}
	if (message.from) return { type: "user", date: message.date, sender_user: message.from };
	return { type: "hidden_user", date: message.date, sender_user_name: "Deleted Account" };
}

function textMessage(ctx: MethodContext): TelegramMessage {
	// Telegram checks the text before the chat: an empty request says "message text is empty".
	const content = textContent(ctx.params);
	return deliver(ctx, resolveTarget(ctx), content);
}

function copyMessage(ctx: MethodContext): TelegramMessageId {
	const source = sourceMessage(ctx, "message to copy not found");
	const target = resolveTarget(ctx);
	const copy = deliver(ctx, target, copiedContent(ctx, source));
	return { message_id: copy.message_id };
}

function copyMessages(ctx: MethodContext): TelegramMessageId[] {
	const source = ctx.model.chatFromParams(ctx.params, "from_chat_id");
	const ids = objParam<number[]>(ctx.params, "message_ids") ?? [];
	const found = ids
		.map((id) => source.messages.get(Number(id)))
		.filter((m): m is TelegramMessage => m !== undefined && !isServiceMessage(m));
	if (found.length === 0) throw badRequest("message to copy not found");
	const target = resolveTarget(ctx);
	const removeCaption = ctx.params.remove_caption === true;
	return found.map((message) => {
		const content = contentOf(message);
		if (removeCaption) {
			delete content.caption;
			delete content.caption_entities;
		}
		return { message_id: deliver(ctx, target, content).message_id };
	});
}

function forwardMessage(ctx: MethodContext): TelegramMessage {
	const source = sourceMessage(ctx, "message to forward not found");
	const target = resolveTarget(ctx);
	return deliver(ctx, target, contentOf(source), { forward_origin: originOf(source) });
}

function editMessageText(ctx: MethodContext): TelegramMessage {
	const { message } = editableMessage(ctx);
	const content = textContent(ctx.params);
	if (message.text === undefined) throw badRequest("there is no text in the message to edit");
	// Telegram drops the inline keyboard when an edit does not repeat it.
	const markup = inlineMarkup(ctx.params);
	if (
		message.text === content.text &&
		sameJson(message.entities, content.entities) &&
		sameJson(message.reply_markup, markup)
	) {
		throw ERR.notModified();
	}
	const edited: TelegramMessage = {
		...without(message, ["entities", "reply_markup"]),
		...content,
		...(markup ? { reply_markup: markup } : {}),
		edit_date: Math.floor(Date.now() / 1000),
	};
	ctx.model.replaceMessage(edited);
	return edited;
}

function editMessageCaption(ctx: MethodContext): TelegramMessage {
	const { message } = editableMessage(ctx);
	if (message.text !== undefined || isServiceMessage(message)) {
		throw badRequest("there is no caption in the message to edit");
	}
	const content = captionContent(ctx.params);
	const markup = inlineMarkup(ctx.params);
	if (
		message.caption === content.caption &&
		sameJson(message.caption_entities, content.caption_entities) &&
		sameJson(message.reply_markup, markup)
	) {
		throw ERR.notModified();
	}
	const edited: TelegramMessage = {
		...without(message, ["caption", "caption_entities", "reply_markup"]),
		...content,
		...(markup ? { reply_markup: markup } : {}),
		edit_date: Math.floor(Date.now() / 1000),
	};
	ctx.model.replaceMessage(edited);
	return edited;
}

function editMessageReplyMarkup(ctx: MethodContext): TelegramMessage {
	const { message } = editableMessage(ctx);
	const markup = inlineMarkup(ctx.params);
	if (sameJson(message.reply_markup, markup)) throw ERR.notModified();
	const edited: TelegramMessage = {
		...without(message, ["reply_markup"]),
		...(markup ? { reply_markup: markup } : {}),
		edit_date: Math.floor(Date.now() / 1000),
	};
	ctx.model.replaceMessage(edited);
	return edited;
}

function deleteMessage(ctx: MethodContext): true {
	const state = ctx.model.chatFromParams(ctx.params);
	const id = requireInt(ctx.params, "message_id", "message identifier is not specified");
	if (!state.messages.delete(id)) throw badRequest("message to delete not found");
	state.pinned = state.pinned.filter((p) => p !== id);
	return true;
}

function deleteMessages(ctx: MethodContext): true {
	const state = ctx.model.chatFromParams(ctx.params);
	const ids = (objParam<number[]>(ctx.params, "message_ids") ?? []).map(Number);
	for (const id of ids) state.messages.delete(id);
	state.pinned = state.pinned.filter((p) => !ids.includes(p));
	return true;
}

function pinChatMessage(ctx: MethodContext): true {
	const state = ctx.model.chatFromParams(ctx.params);
	ctx.model.assertReachable(state);
	const id = requireInt(ctx.params, "message_id", "message identifier is not specified");
	if (!state.messages.has(id)) throw badRequest("message to pin not found");
	state.pinned = [...state.pinned.filter((p) => p !== id), id];
	return true;
}

function unpinChatMessage(ctx: MethodContext): true {
	const state = ctx.model.chatFromParams(ctx.params);
	const id = intParam(ctx.params, "message_id");
	state.pinned =
		id === undefined ? state.pinned.slice(0, -1) : state.pinned.filter((p) => p !== id);
	return true;
}

function unpinAllChatMessages(ctx: MethodContext): true {
	ctx.model.chatFromParams(ctx.params).pinned = [];
	return true;
}

function sendChatAction(ctx: MethodContext): true {
	const state = ctx.model.chatFromParams(ctx.params);
	ctx.model.assertReachable(state);
	const action = strParam(ctx.params, "action");
	if (!action || !CHAT_ACTIONS.has(action)) {
		throw badRequest("wrong parameter action in request");
	}
	const threadId = intParam(ctx.params, "message_thread_id");
	if (threadId !== undefined && ctx.model.isGroup(state)) {
		const topic = ctx.model.topics.get(threadId);
		if (!topic || topic.deleted) throw ERR.threadNotFound();
	}
	return true;
}

function sendLocation(ctx: MethodContext): TelegramMessage {
	const target = resolveTarget(ctx);
	const location = {
		latitude: requiredNumber(ctx, "latitude"),
		longitude: requiredNumber(ctx, "longitude"),
	};
	return deliver(ctx, target, { location });
}

function sendVenue(ctx: MethodContext): TelegramMessage {
	const target = resolveTarget(ctx);
	const location = {
		latitude: requiredNumber(ctx, "latitude"),
		longitude: requiredNumber(ctx, "longitude"),
	};
	const title = strParam(ctx.params, "title");
	const address = strParam(ctx.params, "address");
	if (!title || !address) throw badRequest("venue title and address must be non-empty");
	return deliver(ctx, target, { venue: { location, title, address } });
}

function sendContact(ctx: MethodContext): TelegramMessage {
	const target = resolveTarget(ctx);
	const phone = strParam(ctx.params, "phone_number");
	const firstName = strParam(ctx.params, "first_name");
	if (!phone) throw badRequest("phone_number is empty");
	if (!firstName) throw badRequest("first_name is empty");
	const lastName = strParam(ctx.params, "last_name");
	return deliver(ctx, target, {
		contact: {
			phone_number: phone,
			first_name: firstName,
			...(lastName ? { last_name: lastName } : {}),
		},
	});
}

function sendDice(ctx: MethodContext): TelegramMessage {
	const target = resolveTarget(ctx);
	const emoji = strParam(ctx.params, "emoji") ?? "🎲";
	const max = emoji === "🎰" ? 64 : emoji === "🎯" || emoji === "🎲" || emoji === "🎳" ? 6 : 5;
	return deliver(ctx, target, { dice: { emoji, value: 1 + Math.floor(Math.random() * max) } });
}

function sendPoll(ctx: MethodContext): TelegramMessage {
	const target = resolveTarget(ctx);
	const question = strParam(ctx.params, "question");
	if (!question) throw badRequest("poll question must be non-empty");
	const options = objParam<unknown[]>(ctx.params, "options") ?? [];
	if (options.length < 2) throw badRequest("poll must have at least 2 option");
	const poll: TelegramPoll = {
		id: `${Date.now()}${Math.floor(Math.random() * 1e6)}`,
		question,
		options: options.map((o) => ({
			text: typeof o === "string" ? o : String((o as { text?: unknown }).text ?? ""),
			voter_count: 0,
		})),
		total_voter_count: 0,
		is_closed: false,
		is_anonymous: ctx.params.is_anonymous !== false && ctx.params.is_anonymous !== "false",
		type: ctx.params.type === "quiz" ? "quiz" : "regular",
		allows_multiple_answers: ctx.params.allows_multiple_answers === true,
	} as TelegramPoll;
	return deliver(ctx, target, { poll });
}

interface InputMedia {
	type?: unknown;
	media?: unknown;
	caption?: unknown;
	caption_entities?: unknown;
}

const ALBUM_KINDS: ReadonlySet<string> = new Set(["photo", "video", "document", "audio"]);

/** sendMediaGroup: 2–10 items sharing one `media_group_id`; returns the messages. */
async function sendMediaGroup(ctx: MethodContext): Promise<TelegramMessage[]> {
	const target = resolveTarget(ctx);
	const media = objParam<InputMedia[]>(ctx.params, "media");
	if (!Array.isArray(media) || media.length < 2 || media.length > 10) {
		throw badRequest("wrong number of messages in the media group");
	}
	const items = [];
	for (const item of media) {
		const kind = String(item.type);
		if (!ALBUM_KINDS.has(kind)) throw badRequest("wrong type of the media in the media group");
		const file = await resolveFile(ctx, kind as FileKind, item.media);
		items.push({ file, params: item as Record<string, unknown> });
	}
	const groupId = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
	return items.map(({ file, params }) =>
		deliver(ctx, target, mediaContent(file, params), { media_group_id: groupId }),
	);
}

export const messageMethods: Record<string, MethodHandler> = {
	sendMessage: textMessage,
	sendPhoto: sendMedia("photo"),
	sendDocument: sendMedia("document"),
	sendVoice: sendMedia("voice"),
	sendAudio: sendMedia("audio"),
	sendVideo: sendMedia("video"),
	sendAnimation: sendMedia("animation"),
	sendVideoNote: sendMedia("video_note"),
	sendSticker: sendMedia("sticker"),
	sendLocation,
	sendVenue,
	sendContact,
	sendDice,
	sendPoll,
	sendMediaGroup,
	copyMessage,
	copyMessages,
	forwardMessage,
	editMessageText,
	editMessageCaption,
	editMessageReplyMarkup,
	deleteMessage,
	deleteMessages,
	pinChatMessage,
	unpinChatMessage,
	unpinAllChatMessages,
	sendChatAction,
};
