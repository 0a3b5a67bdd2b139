/**
 * The world the Bot API double simulates: one bot, one forum supergroup with topics, and a
 * private chat per customer. Message ids are per chat and only ever increase, even across
 * {@link DoubleModel.reset}, so a service that keeps ids from an earlier test never sees them
 * reused (Telegram never reuses them either).
 */
import type {
	TelegramBotCommand,
	TelegramCallbackQuery,
	TelegramChat,
	TelegramChatMember,
	TelegramChatMemberAdministrator,
	TelegramMessage,
	TelegramUser,
} from "gramio";
import { badRequest, ERR } from "./telegram-double-errors.ts";
import { FileStore } from "./telegram-double-files.ts";
import { intParam, type Params, strParam } from "./telegram-double-params.ts";

/** Telegram's fixed user shown as `from` of messages by anonymous group admins. */
export const GROUP_ANONYMOUS_BOT: TelegramUser = {
	id: 1087968824,
	is_bot: true,
	first_name: "Group",
	username: "GroupAnonymousBot",
};

/** The six colours Telegram allows for topic icons; the first is its default. */
export const TOPIC_ICON_COLORS = [
	7322096, 16766590, 13338331, 9367192, 16749490, 16478047,
] as const;

/** Message fields that carry content; a message with none of them is a service message. */
export const CONTENT_KEYS = [
	"text",
	"entities",
	"caption",
	"caption_entities",
	"show_caption_above_media",
	"has_media_spoiler",
	"photo",
	"document",
	"voice",
	"audio",
	"video",
	"animation",
	"video_note",
	"sticker",
	"location",
	"venue",
	"contact",
	"poll",
	"dice",
] as const satisfies readonly (keyof TelegramMessage)[];

export type MessageContent = Pick<TelegramMessage, (typeof CONTENT_KEYS)[number]>;

export function isServiceMessage(message: TelegramMessage): boolean {
	return !CONTENT_KEYS.some((key) => message[key] !== undefined);
}

/** Copies only the content fields of a message (what copyMessage transfers). */
export function contentOf(message: TelegramMessage): MessageContent {
	const content: Record<string, unknown> = {};
	for (const key of CONTENT_KEYS) {
		if (message[key] !== undefined) content[key] = structuredClone(message[key]);
	}
	return content as MessageContent;
}

export interface ChatState {
	chat: TelegramChat;
	/** Insertion order equals id order because ids only increase. */
	messages: Map<number, TelegramMessage>;
	/** Pinned message ids, oldest pin first. */
	pinned: number[];
	/** Private chats: the customer blocked the bot. */
	blocked: boolean;
	/** Private chats: the other party. */
	user?: TelegramUser;
	/** Further forum groups: the bot was removed, every call about the chat gets 403. */
	kicked?: boolean;
}

export interface TopicState {
	threadId: number;
	name: string;
	iconColor: number;
	iconCustomEmojiId?: string;
	closed: boolean;
	deleted: boolean;
	/** The topic's messages at the moment it was deleted (Telegram deletes them with it). */
	archived: TelegramMessage[];
	/** The forum the topic is in (absent: the main group). */
	chatId?: number;
}

export interface CallbackRecord {
	query: TelegramCallbackQuery;
	/** Parameters of the answerCallbackQuery call, once answered. */
	answer?: { text?: string; show_alert?: boolean; url?: string; cache_time?: number };
}

export interface ModelOptions {
	bot: TelegramUser;
	groupId: number;
	groupTitle: string;
	operator: TelegramUser;
	admins?: TelegramChatMember[];
	implicitTopicReplies: boolean;
}

/** An administrator with the rights a support bot or operator usually has. */
export function administrator(user: TelegramUser): TelegramChatMemberAdministrator {
	return {
		status: "administrator",
		user,
		can_be_edited: false,
		is_anonymous: false,
		can_manage_chat: true,
		can_delete_messages: true,
		can_manage_video_chats: true,
		can_restrict_members: true,
		can_promote_members: false,
		can_change_info: true,
		can_invite_users: true,
		can_post_stories: false,
		can_edit_stories: false,
		can_delete_stories: false,
		can_pin_messages: true,
		can_manage_topics: true,
		can_send_welcome_messages: false,
	};
}

/** Default admins: one human creator (the default operator) and the bot as administrator. */
export function defaultAdmins(operator: TelegramUser, bot: TelegramUser): TelegramChatMember[] {
	return [{ status: "creator", user: operator, is_anonymous: false }, administrator(bot)];
}

export class DoubleModel {
	readonly bot: TelegramUser;
	readonly group: TelegramChat;
	readonly operator: TelegramUser;
	/** In real forums a topic message that replies to nothing has `reply_to_message` = the
	 * topic's creation service message. On by default so the service is tested against it. */
	readonly implicitTopicReplies: boolean;
	readonly files = new FileStore();
	readonly chats = new Map<number, ChatState>();
	readonly topics = new Map<number, TopicState>();
	/**
	 * Forum groups besides the main one (`addForum`). Their message ids start far apart, so that
	 * thread ids, which are message ids, are unique across forums and `topics` keeps one key.
	 */
	readonly forums = new Map<number, TelegramChat>();
	/** Every user the double has seen (customers, operators), by id. */
	readonly users = new Map<number, TelegramUser>();
	/** Human members of the group besides the admins (users who posted there). */
	readonly groupMembers = new Set<number>();
	readonly callbacks = new Map<string, CallbackRecord>();
	/** setMyCommands storage keyed by `scope JSON|language_code`. */
	readonly commands = new Map<string, TelegramBotCommand[]>();
	/** setMyDefaultAdministratorRights storage, keyed by `for_channels`. */
	readonly defaultAdminRights = new Map<boolean, Record<string, unknown>>();
	admins: TelegramChatMember[];
	private readonly initialAdmins: TelegramChatMember[];
	/** Highest message id used per chat; kept by reset() so ids are never reused. */
	private readonly lastMessageId = new Map<number, number>();
	private callbackCounter = 0;

	constructor(options: ModelOptions) {
		this.bot = options.bot;
		this.operator = options.operator;
		this.implicitTopicReplies = options.implicitTopicReplies;
		this.group = {
			id: options.groupId,
			type: "supergroup",
			title: options.groupTitle,
			is_forum: true,
		};
		this.initialAdmins = options.admins ?? defaultAdmins(options.operator, options.bot);
		this.admins = structuredClone(this.initialAdmins);
		this.reset();
	}

	/** Forgets all content (chats, topics, files, members) but keeps id counters. */
	reset(): void {
		this.chats.clear();
		this.topics.clear();
		this.users.clear();
		this.groupMembers.clear();
		this.callbacks.clear();
		this.commands.clear();
		this.defaultAdminRights.clear();
		this.files.clear();
		this.admins = structuredClone(this.initialAdmins);
		this.chats.set(this.group.id, {
			chat: this.group,
			messages: new Map(),
			pinned: [],
			blocked: false,
		});
		for (const forum of this.forums.values())
			this.chats.set(forum.id, { chat: forum, messages: new Map(), pinned: [], blocked: false });
		this.rememberUser(this.operator);
	}

	/** Another forum supergroup with the same bot and admins as the main one. */
	addForum(id: number, title: string): ChatState {
		const chat: TelegramChat = { id, type: "supergroup", title, is_forum: true };
		this.forums.set(id, chat);
		this.lastMessageId.set(id, Math.max(this.lastMessageId.get(id) ?? 0, this.forums.size * 1e6));
		const state: ChatState = { chat, messages: new Map(), pinned: [], blocked: false };
		this.chats.set(id, state);
		return state;
	}

	/** The forum of a topic (the main group unless it was made in another). */
	forumOf(topic: TopicState): ChatState {
		const state = this.chats.get(topic.chatId ?? this.group.id);
		if (!state) throw new Error(`the forum of topic ${topic.threadId} is missing`);
		return state;
	}

	rememberUser(user: TelegramUser): void {
		this.users.set(user.id, user);
	}

	/** The private chat with a user, created (as if the user pressed Start) when missing. */
	privateChat(user: TelegramUser): ChatState {
		this.rememberUser(user);
		const chat: TelegramChat = {
			id: user.id,
			type: "private",
			first_name: user.first_name,
			...(user.last_name !== undefined ? { last_name: user.last_name } : {}),
			...(user.username !== undefined ? { username: user.username } : {}),
		};
		const existing = this.chats.get(user.id);
		if (existing) {
			existing.chat = chat;
			existing.user = user;
			return existing;
		}
		const state: ChatState = { chat, messages: new Map(), pinned: [], blocked: false, user };
		this.chats.set(user.id, state);
		return state;
	}

	isGroup(state: ChatState): boolean {
		return state.chat.id === this.group.id || this.forums.has(state.chat.id);
	}

	/** Resolves `chat_id` like Telegram: missing → "chat_id is empty", unknown → "chat not found". */
	chatFromParams(params: Params, name = "chat_id"): ChatState {
		const raw = params[name];
		if (raw === undefined || raw === null || raw === "") throw badRequest(`${name} is empty`);
		if (typeof raw === "string" && raw.startsWith("@")) throw ERR.chatNotFound();
		const id = intParam(params, name);
		const state = id === undefined ? undefined : this.chats.get(id);
		if (!state) throw ERR.chatNotFound();
		if (state.kicked) throw ERR.kicked();
		return state;
	}

	/** Throws Telegram's 403 when a customer blocked the bot. */
	assertReachable(state: ChatState): void {
		if (state.blocked) throw ERR.blocked();
	}

	/** Validates a thread for sending: missing/deleted → not found, closed → TOPIC_CLOSED. */
	assertSendableThread(state: ChatState, threadId: number | undefined): void {
		if (threadId === undefined || !this.isGroup(state)) return;
		const topic = this.topics.get(threadId);
		if (!topic || topic.deleted || this.forumOf(topic) !== state) throw ERR.threadNotFound();
		if (topic.closed) throw ERR.topicClosed();
	}

	/** A live (not deleted) topic for forum-topic methods, or TOPIC_ID_INVALID. */
	liveTopic(params: Params): { state: ChatState; topic: TopicState } {
		const state = this.chatFromParams(params);
		if (!this.isGroup(state)) throw badRequest("the chat is not a forum");
		const threadId = intParam(params, "message_thread_id");
		if (threadId === undefined) throw badRequest("message thread identifier is not specified");
		const topic = this.topics.get(threadId);
		if (!topic || topic.deleted || this.forumOf(topic) !== state) throw ERR.topicInvalid();
		return { state, topic };
	}

	findMessage(chatId: number, messageId: number): TelegramMessage | undefined {
		return this.chats.get(chatId)?.messages.get(messageId);
	}

	/** Assigns the next id in the chat, stamps date and chat, and stores the message. */
	appendMessage(
		state: ChatState,
		fields: Omit<TelegramMessage, "message_id" | "date" | "chat">,
	): TelegramMessage {
		const id = (this.lastMessageId.get(state.chat.id) ?? 0) + 1;
		this.lastMessageId.set(state.chat.id, id);
		const message: TelegramMessage = {
			message_id: id,
			date: Math.floor(Date.now() / 1000),
			chat: state.chat,
			...fields,
		};
		state.messages.set(id, message);
		return message;
	}

	/** Stores a new version of a message; older objects handed out earlier stay unchanged. */
	replaceMessage(message: TelegramMessage): void {
		this.chats.get(message.chat.id)?.messages.set(message.message_id, message);
	}

	/**
	 * Thread fields for a new message: `message_thread_id` + `is_topic_message`, and the
	 * implicit reply to the topic's creation message when the message replies to nothing.
	 */
	threadFields(
		state: ChatState,
		threadId: number | undefined,
		replyTo: TelegramMessage | undefined,
	): Partial<TelegramMessage> {
		if (threadId === undefined || !this.isGroup(state)) {
			return replyTo ? { reply_to_message: shallowReply(replyTo) } : {};
		}
		const root = state.messages.get(threadId);
		const reply = replyTo ?? (this.implicitTopicReplies ? root : undefined);
		return {
			message_thread_id: threadId,
			is_topic_message: true,
			...(reply ? { reply_to_message: shallowReply(reply) } : {}),
		};
	}

	/** Creates a topic: its id is the id of its `forum_topic_created` service message. */
	createTopic(
		name: string,
		iconColor: number,
		iconCustomEmojiId: string | undefined,
		by: TelegramUser,
		state: ChatState = this.groupState(),
	): TopicState {
		const service = this.appendMessage(state, {
			from: by,
			is_topic_message: true,
			forum_topic_created: {
				name,
				icon_color: iconColor,
				...(iconCustomEmojiId !== undefined ? { icon_custom_emoji_id: iconCustomEmojiId } : {}),
			},
		});
		const withThread: TelegramMessage = { ...service, message_thread_id: service.message_id };
		this.replaceMessage(withThread);
		const topic: TopicState = {
			threadId: service.message_id,
			name,
			iconColor,
			closed: false,
			deleted: false,
			archived: [],
			...(iconCustomEmojiId !== undefined ? { iconCustomEmojiId } : {}),
			...(state.chat.id !== this.group.id ? { chatId: state.chat.id } : {}),
		};
		this.topics.set(topic.threadId, topic);
		return topic;
	}

	/**
	 * Deletes a topic as Telegram does: its messages go with it (kept in `archived` for
	 * inspection), later sends into it fail with "message thread not found".
	 */
	deleteTopic(threadId: number): void {
		const topic = this.topics.get(threadId);
		if (!topic || topic.deleted) throw new Error(`topic ${threadId} does not exist`);
		const state = this.forumOf(topic);
		const gone = [...state.messages.values()].filter((m) => m.message_thread_id === threadId);
		for (const message of gone) state.messages.delete(message.message_id);
		state.pinned = state.pinned.filter((id) => state.messages.has(id));
		topic.deleted = true;
		topic.archived = gone;
	}

	groupState(): ChatState {
		const state = this.chats.get(this.group.id);
		if (!state) throw new Error("the group chat is missing; reset() recreates it");
		return state;
	}

	/** Messages of a chat in id order; with a thread id only that topic's messages. */
	messagesIn(
		chatId: number,
		threadId?: number,
		options: { includeService?: boolean } = {},
	): TelegramMessage[] {
		const state = this.chats.get(chatId);
		if (!state) return [];
		return [...state.messages.values()].filter(
			(m) =>
				(threadId === undefined || m.message_thread_id === threadId) &&
				(options.includeService || !isServiceMessage(m)),
		);
	}

	/** A new callback query id, unique for the life of the double. */
	nextCallbackId(): string {
		this.callbackCounter += 1;
		return `${Date.now()}${this.callbackCounter}`;
	}

	/** Member record of a user in the group, as getChatMember returns it. */
	groupMember(userId: number): TelegramChatMember | undefined {
		const admin = this.admins.find((m) => m.user.id === userId);
		if (admin) return admin;
		const user = this.users.get(userId);
		if (!user) return undefined;
		if (this.groupMembers.has(userId)) return { status: "member", user };
		return { status: "left", user };
	}

	commandKey(params: Params): string {
		const scope = params.scope === undefined ? "default" : JSON.stringify(params.scope);
		return `${scope}|${strParam(params, "language_code") ?? ""}`;
	}
}

/** Telegram omits `reply_to_message` inside a `reply_to_message`. */
export function shallowReply(message: TelegramMessage): TelegramMessage {
	const { reply_to_message: _nested, ...rest } = message;
	return rest;
}
