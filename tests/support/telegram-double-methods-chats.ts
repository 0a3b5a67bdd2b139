/**
 * Bot API methods of the double about the bot, updates, chats, members, files, callbacks,
 * commands and forum topics.
 */
import type {
	TelegramBotCommand,
	TelegramChatFullInfo,
	TelegramChatMember,
	TelegramFile,
	TelegramForumTopic,
	TelegramUpdate,
	TelegramUser,
	TelegramWebhookInfo,
} from "gramio";
import { badRequest, ERR } from "./telegram-double-errors.ts";
import { MAX_DOWNLOAD_BYTES } from "./telegram-double-files.ts";
import { type ChatState, TOPIC_ICON_COLORS } from "./telegram-double-model.ts";
import { boolParam, intParam, objParam, requireInt, strParam } from "./telegram-double-params.ts";
import type { MethodContext, MethodHandler } from "./telegram-double-send.ts";

const MAX_TOPIC_NAME = 128;
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const COMMAND = /^[a-z0-9_]{1,32}$/;

function getMe(ctx: MethodContext): TelegramUser {
	return {
		...ctx.model.bot,
		can_join_groups: true,
		can_read_all_group_messages: false,
		supports_inline_queries: false,
		can_connect_to_business: false,
		has_main_web_app: false,
	};
}

function getUpdates(ctx: MethodContext): Promise<TelegramUpdate[]> {
	const { params } = ctx;
	const offset = intParam(params, "offset");
	const limit = intParam(params, "limit");
	const timeout = intParam(params, "timeout");
	const allowedUpdates = objParam<string[]>(params, "allowed_updates");
	return ctx.updates.getUpdates({
		...(offset !== undefined ? { offset } : {}),
		...(limit !== undefined ? { limit } : {}),
		...(timeout !== undefined ? { timeout } : {}),
		...(allowedUpdates !== undefined ? { allowedUpdates } : {}),
		signal: ctx.signal,
	});
}

function setWebhook(ctx: MethodContext): true {
	const { params, updates } = ctx;
	const url = strParam(params, "url") ?? "";
	const dropPending = boolParam(params, "drop_pending_updates");
	if (url === "") {
		updates.deleteWebhook(dropPending);
		return true;
	}
	if (!URL.canParse(url)) throw badRequest("bad webhook: Failed to resolve host");
	const secretToken = strParam(params, "secret_token");
	if (secretToken !== undefined && !SECRET_TOKEN.test(secretToken)) {
		throw badRequest("secret token contains unallowed characters");
	}
	const allowedUpdates = objParam<string[]>(params, "allowed_updates");
	updates.setWebhook(
		{
			url,
			maxConnections: intParam(params, "max_connections") ?? 40,
			...(secretToken !== undefined ? { secretToken } : {}),
			...(allowedUpdates !== undefined ? { allowedUpdates } : {}),
		},
		dropPending,
	);
	return true;
}

function deleteWebhook(ctx: MethodContext): true {
	ctx.updates.deleteWebhook(boolParam(ctx.params, "drop_pending_updates"));
	return true;
}

function getWebhookInfo(ctx: MethodContext): TelegramWebhookInfo {
	const hook = ctx.updates.webhook;
	return {
		url: hook?.url ?? "",
		has_custom_certificate: false,
		pending_update_count: ctx.updates.pendingUpdates.length,
		...(hook ? { max_connections: hook.maxConnections } : {}),
		...(hook?.allowedUpdates
			? { allowed_updates: hook.allowedUpdates as TelegramWebhookInfo["allowed_updates"] }
			: {}),
		...(hook?.lastErrorDate !== undefined ? { last_error_date: hook.lastErrorDate } : {}),
		...(hook?.lastErrorMessage !== undefined ? { last_error_message: hook.lastErrorMessage } : {}),
	};
}

function getChat(ctx: MethodContext): TelegramChatFullInfo {
	const state = ctx.model.chatFromParams(ctx.params);
	const pinnedId = state.pinned.at(-1);
	const pinned = pinnedId === undefined ? undefined : state.messages.get(pinnedId);
	return {
		...state.chat,
		accent_color_id: 0,
		max_reaction_count: 11,
		accepted_gift_types: {
			unlimited_gifts: false,
			limited_gifts: false,
			unique_gifts: false,
			premium_subscription: false,
			gifts_from_channels: false,
		},
		...(pinned ? { pinned_message: pinned } : {}),
	};
}

function privateMember(ctx: MethodContext, state: ChatState, userId: number): TelegramChatMember {
	if (userId === ctx.model.bot.id) return { status: "member", user: ctx.model.bot };
	if (state.user && state.user.id === userId) {
		return state.blocked
			? { status: "kicked", user: state.user, until_date: 0 }
			: { status: "member", user: state.user };
	}
	throw badRequest("user not found");
}

function getChatMember(ctx: MethodContext): TelegramChatMember {
	const { model, params } = ctx;
	const state = model.chatFromParams(params);
	const userId = requireInt(params, "user_id", "invalid user_id specified");
	if (!model.isGroup(state)) return privateMember(ctx, state, userId);
	const member = model.groupMember(userId);
	if (member) return member;
	if (userId === model.bot.id) return { status: "member", user: model.bot };
	throw badRequest("user not found");
}

function getChatAdministrators(ctx: MethodContext): TelegramChatMember[] {
	const state = ctx.model.chatFromParams(ctx.params);
	if (!ctx.model.isGroup(state))
		throw badRequest("there are no administrators in the private chat");
	return structuredClone(ctx.model.admins);
}

function getChatMemberCount(ctx: MethodContext): number {
	const { model } = ctx;
	const state = model.chatFromParams(ctx.params);
	if (!model.isGroup(state)) return 2;
	const admins = new Set(model.admins.map((m) => m.user.id));
	return admins.size + [...model.groupMembers].filter((id) => !admins.has(id)).length;
}

function getFile(ctx: MethodContext): TelegramFile {
	const fileId = strParam(ctx.params, "file_id");
	if (!fileId) throw badRequest("file_id is empty");
	const file = ctx.model.files.get(fileId);
	if (!file) throw badRequest("invalid file_id");
	if (file.bytes.length > MAX_DOWNLOAD_BYTES) throw badRequest("file is too big");
	return {
		file_id: file.fileId,
		file_unique_id: file.fileUniqueId,
		file_size: file.bytes.length,
		file_path: file.filePath,
	};
}

function answerCallbackQuery(ctx: MethodContext): true {
	const { params } = ctx;
	const id = strParam(params, "callback_query_id");
	const record = id === undefined ? undefined : ctx.model.callbacks.get(id);
	// Telegram accepts one answer per query; a second one is "too old" as well.
	if (!record || record.answer) {
		throw badRequest("query is too old and response timeout expired or query ID is invalid");
	}
	const text = strParam(params, "text");
	const url = strParam(params, "url");
	const cacheTime = intParam(params, "cache_time");
	record.answer = {
		...(text !== undefined ? { text } : {}),
		...(params.show_alert !== undefined ? { show_alert: boolParam(params, "show_alert") } : {}),
		...(url !== undefined ? { url } : {}),
		...(cacheTime !== undefined ? { cache_time: cacheTime } : {}),
	};
	return true;
}

function setMyCommands(ctx: MethodContext): true {
	const commands = objParam<TelegramBotCommand[]>(ctx.params, "commands");
	if (!Array.isArray(commands)) throw badRequest("commands is empty");
	if (commands.length > 100) throw badRequest("too many commands specified");
	for (const c of commands) {
		if (typeof c.command !== "string" || !COMMAND.test(c.command)) {
			throw badRequest("BOT_COMMAND_INVALID");
		}
		if (
			typeof c.description !== "string" ||
			c.description.length < 1 ||
			c.description.length > 256
		) {
			throw badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
		}
	}
	ctx.model.commands.set(ctx.model.commandKey(ctx.params), commands);
	return true;
}

function getMyCommands(ctx: MethodContext): TelegramBotCommand[] {
	return ctx.model.commands.get(ctx.model.commandKey(ctx.params)) ?? [];
}

function deleteMyCommands(ctx: MethodContext): true {
	ctx.model.commands.delete(ctx.model.commandKey(ctx.params));
	return true;
}

/** The rights Telegram suggests when a user adds the bot to a group (or channel) as an admin. */
function setMyDefaultAdministratorRights(ctx: MethodContext): true {
	const rights = objParam<Record<string, unknown>>(ctx.params, "rights") ?? {};
	if (typeof rights !== "object" || Array.isArray(rights)) throw badRequest("can't parse rights");
	for (const [key, value] of Object.entries(rights)) {
		if (!key.startsWith("can_") && key !== "is_anonymous") throw badRequest("can't parse rights");
		if (typeof value !== "boolean") throw badRequest("can't parse rights");
	}
	const forChannels = boolParam(ctx.params, "for_channels");
	ctx.model.defaultAdminRights.set(forChannels, rights);
	return true;
}

function getMyDefaultAdministratorRights(ctx: MethodContext): Record<string, unknown> {
	return ctx.model.defaultAdminRights.get(boolParam(ctx.params, "for_channels")) ?? {};
}

function getUserProfilePhotos(ctx: MethodContext): { total_count: number; photos: [] } {
	requireInt(ctx.params, "user_id", "invalid user_id specified");
	return { total_count: 0, photos: [] };
}

/** Name rules of forum topics (1–128 characters). */
function topicName(raw: string | undefined): string {
	if (raw === undefined || raw.trim() === "" || raw.length > MAX_TOPIC_NAME) {
		throw badRequest("TOPIC_NAME_INVALID");
	}
	return raw;
}

function createForumTopic(ctx: MethodContext): TelegramForumTopic {
	const { model, params } = ctx;
	const state = model.chatFromParams(params);
	if (!model.isGroup(state)) throw badRequest("the chat is not a forum");
	const name = topicName(strParam(params, "name"));
	const color = intParam(params, "icon_color") ?? TOPIC_ICON_COLORS[0];
	if (!(TOPIC_ICON_COLORS as readonly number[]).includes(color)) {
		throw badRequest("TOPIC_ICON_COLOR_INVALID");
	}
	const emoji = strParam(params, "icon_custom_emoji_id");
	const topic = model.createTopic(name, color, emoji, model.bot, state);
	return {
		message_thread_id: topic.threadId,
		name: topic.name,
		icon_color: topic.iconColor,
		...(emoji !== undefined ? { icon_custom_emoji_id: emoji } : {}),
	};
}

function editForumTopic(ctx: MethodContext): true {
	const { model, params } = ctx;
	const { state, topic } = model.liveTopic(params);
	const rawName = strParam(params, "name");
	const name = rawName === undefined ? undefined : topicName(rawName);
	const emoji = strParam(params, "icon_custom_emoji_id");
	const nameChanges = name !== undefined && name !== topic.name;
	const emojiChanges = emoji !== undefined && emoji !== (topic.iconCustomEmojiId ?? "");
	if (!nameChanges && !emojiChanges) throw ERR.topicNotModified();
	if (name !== undefined) topic.name = name;
	if (emoji !== undefined) topic.iconCustomEmojiId = emoji;
	model.appendMessage(state, {
		from: model.bot,
		message_thread_id: topic.threadId,
		is_topic_message: true,
		forum_topic_edited: {
			...(nameChanges ? { name: topic.name } : {}),
			...(emojiChanges ? { icon_custom_emoji_id: emoji } : {}),
		},
	});
	return true;
}

function closeForumTopic(ctx: MethodContext): true {
	const { model } = ctx;
	const { state, topic } = model.liveTopic(ctx.params);
	if (topic.closed) throw ERR.topicNotModified();
	topic.closed = true;
	model.appendMessage(state, {
		from: model.bot,
		message_thread_id: topic.threadId,
		is_topic_message: true,
		forum_topic_closed: {},
	});
	return true;
}

function reopenForumTopic(ctx: MethodContext): true {
	const { model } = ctx;
	const { state, topic } = model.liveTopic(ctx.params);
	if (!topic.closed) throw ERR.topicNotModified();
	topic.closed = false;
	model.appendMessage(state, {
		from: model.bot,
		message_thread_id: topic.threadId,
		is_topic_message: true,
		forum_topic_reopened: {},
	});
	return true;
}

function deleteForumTopic(ctx: MethodContext): true {
	const { topic } = ctx.model.liveTopic(ctx.params);
	ctx.model.deleteTopic(topic.threadId);
	return true;
}

function unpinAllForumTopicMessages(ctx: MethodContext): true {
	const { state, topic } = ctx.model.liveTopic(ctx.params);
	state.pinned = state.pinned.filter(
		(id) => state.messages.get(id)?.message_thread_id !== topic.threadId,
	);
	return true;
}

export const chatMethods: Record<string, MethodHandler> = {
	getMe,
	logOut: () => true,
	close: () => true,
	getUpdates,
	setWebhook,
	deleteWebhook,
	getWebhookInfo,
	getChat,
	getChatMember,
	getChatAdministrators,
	getChatMemberCount,
	getFile,
	answerCallbackQuery,
	setMyCommands,
	getMyCommands,
	deleteMyCommands,
	setMyDefaultAdministratorRights,
	getMyDefaultAdministratorRights,
	getUserProfilePhotos,
	createForumTopic,
	editForumTopic,
	closeForumTopic,
	reopenForumTopic,
	deleteForumTopic,
	unpinAllForumTopicMessages,
	getForumTopicIconStickers: () => [],
};
