/**
 * Acting as people in the Bot API double: customers in their private chats, operators in the
 * forum topics, button presses. Each action stores the message where Telegram would and
 * pushes the Update the bot would receive.
 */
import type {
	TelegramCallbackQuery,
	TelegramContact,
	TelegramDice,
	TelegramLocation,
	TelegramMessage,
	TelegramMessageEntity,
	TelegramPoll,
	TelegramUser,
	TelegramVenue,
} from "gramio";
import {
	FILE_KINDS,
	type FileKind,
	type FileSpec,
	type FileStore,
	mediaFields,
	type StoredFile,
} from "./telegram-double-files.ts";
import {
	type ChatState,
	type DoubleModel,
	GROUP_ANONYMOUS_BOT,
	shallowReply,
} from "./telegram-double-model.ts";
import type { UpdateQueue } from "./telegram-double-updates.ts";

/** A human user; `is_bot` defaults to false. */
export type Person = Omit<TelegramUser, "is_bot"> & { is_bot?: boolean };

/** A file to attach: bytes with metadata, or a file registered earlier. */
export type FileSource = FileSpec | StoredFile | Uint8Array;

/** What a person sends: a text, or Telegram message content with files given as sources. */
export type PersonContent =
	| string
	| ({
			text?: string;
			entities?: TelegramMessageEntity[];
			caption?: string;
			caption_entities?: TelegramMessageEntity[];
			location?: TelegramLocation;
			venue?: TelegramVenue;
			contact?: TelegramContact;
			dice?: TelegramDice;
			poll?: TelegramPoll;
			media_group_id?: string;
	  } & Partial<Record<FileKind, FileSource>>);

export interface GroupPostOptions {
	/** The human author; defaults to the double's operator. */
	from?: Person;
	/** Post as the group itself (anonymous admin): `sender_chat` = group, `from` = GroupAnonymousBot. */
	anonymous?: boolean;
	replyToMessageId?: number;
	/** The forum posted in (a group added with `addForum`); default: the main group. */
	chatId?: number;
}

export function asUser(person: Person): TelegramUser {
	return { ...person, is_bot: person.is_bot ?? false };
}

function isStoredFile(source: FileSource): source is StoredFile {
	return !(source instanceof Uint8Array) && "fileId" in source;
}

/** Turns person content into Telegram message fields, registering any attached files. */
export function buildContent(files: FileStore, content: PersonContent): Partial<TelegramMessage> {
	if (typeof content === "string") return { text: content };
	const fields: Partial<TelegramMessage> = {};
	const rest: Record<string, unknown> = { ...content };
	for (const kind of FILE_KINDS) {
		const source = content[kind];
		if (source === undefined) continue;
		delete rest[kind];
		const file = isStoredFile(source)
			? source
			: files.register(kind, source instanceof Uint8Array ? { bytes: source } : source);
		Object.assign(fields, mediaFields(file));
	}
	return { ...fields, ...(rest as Partial<TelegramMessage>) };
}

function edited(message: TelegramMessage, newText: string): TelegramMessage {
	const date = Math.floor(Date.now() / 1000);
	if (message.text !== undefined) {
		const { entities: _dropped, ...rest } = message;
		return { ...rest, text: newText, edit_date: date };
	}
	const { caption_entities: _dropped, ...rest } = message;
	return { ...rest, caption: newText, edit_date: date };
}

/** A stable `chat_instance` per chat, as Telegram gives. */
function chatInstance(chatId: number): string {
	return String(Math.abs(chatId * 2654435761) % 2 ** 53);
}

export class People {
	constructor(
		private readonly model: DoubleModel,
		private readonly updates: UpdateQueue,
	) {}

	/** A private-chat message from a customer; pushes a `message` update. */
	customerSends(
		person: Person,
		content: PersonContent,
		options: { replyToMessageId?: number } = {},
	): TelegramMessage {
		const user = asUser(person);
		const state = this.model.privateChat(user);
		// A blocked bot cannot receive messages until the user restarts it, which unblocks it.
		if (state.blocked) this.setBlocked(user.id, false);
		const replyTo = this.replyTarget(state, options.replyToMessageId);
		const message = this.model.appendMessage(state, {
			from: user,
			...(replyTo ? { reply_to_message: shallowReply(replyTo) } : {}),
			...buildContent(this.model.files, content),
		});
		this.updates.push({ message });
		return message;
	}

	/** A customer edits their text (or caption); pushes an `edited_message` update. */
	customerEdits(person: Person, messageId: number, newText: string): TelegramMessage {
		const state = this.model.chats.get(person.id);
		const message = state?.messages.get(messageId);
		if (!message || message.from?.id !== person.id) {
			throw new Error(`customer ${person.id} has no message ${messageId} to edit`);
		}
		return this.pushEdit(message, newText);
	}

	/** A message in a group topic by a human member (or an anonymous admin). */
	operatorPosts(
		threadId: number,
		content: PersonContent,
		options: GroupPostOptions = {},
	): TelegramMessage {
		const topic = this.model.topics.get(threadId);
		if (!topic || topic.deleted) throw new Error(`topic ${threadId} does not exist`);
		return this.groupPost(threadId, content, {
			...options,
			chatId: this.model.forumOf(topic).chat.id,
		});
	}

	/** A message in the group's General topic (no thread). */
	postInGroupGeneral(content: PersonContent, options: GroupPostOptions = {}): TelegramMessage {
		return this.groupPost(undefined, content, options);
	}

	/** A human edit of a group message; pushes an `edited_message` update. */
	operatorEdits(threadId: number | undefined, messageId: number, newText: string): TelegramMessage {
		const message = this.model.findMessage(this.model.group.id, messageId);
		if (
			!message ||
			message.message_thread_id !== threadId ||
			message.from?.id === this.model.bot.id
		) {
			throw new Error(`no human message ${messageId} in thread ${threadId ?? "General"}`);
		}
		return this.pushEdit(message, newText);
	}

	/** Presses an inline button; pushes a `callback_query` update and returns the query. */
	pressButton(
		chatId: number,
		messageId: number,
		data: string,
		from?: Person,
	): TelegramCallbackQuery {
		const state = this.model.chats.get(chatId);
		const message = state?.messages.get(messageId);
		if (!state || !message) throw new Error(`no message ${messageId} in chat ${chatId}`);
		const presser = from ? asUser(from) : (state.user ?? this.model.operator);
		this.model.rememberUser(presser);
		const query: TelegramCallbackQuery = {
			id: this.model.nextCallbackId(),
			from: presser,
			message,
			chat_instance: chatInstance(chatId),
			data,
		};
		this.model.callbacks.set(query.id, { query });
		this.updates.push({ callback_query: query });
		return query;
	}

	/**
	 * Blocks or unblocks the bot for a customer, with the `my_chat_member` update Telegram
	 * sends. Sends to a blocked customer fail with 403.
	 */
	setBlocked(userId: number, blocked: boolean): void {
		const user = this.model.users.get(userId);
		const state = user ? this.model.privateChat(user) : undefined;
		if (!user || !state) throw new Error(`unknown customer ${userId}`);
		if (state.blocked === blocked) return;
		state.blocked = blocked;
		const bot = this.model.bot;
		this.updates.push({
			my_chat_member: {
				chat: state.chat,
				from: user,
				date: Math.floor(Date.now() / 1000),
				old_chat_member: blocked
					? { status: "member", user: bot }
					: { status: "kicked", user: bot, until_date: 0 },
				new_chat_member: blocked
					? { status: "kicked", user: bot, until_date: 0 }
					: { status: "member", user: bot },
			},
		});
	}

	/** An operator closes or reopens a topic in the Telegram app (service message + update). */
	setTopicClosed(threadId: number, closed: boolean): void {
		const topic = this.model.topics.get(threadId);
		if (!topic || topic.deleted) throw new Error(`topic ${threadId} does not exist`);
		if (topic.closed === closed) return;
		topic.closed = closed;
		const message = this.model.appendMessage(this.model.groupState(), {
			from: this.model.operator,
			message_thread_id: threadId,
			is_topic_message: true,
			...(closed ? { forum_topic_closed: {} } : { forum_topic_reopened: {} }),
		});
		this.updates.push({ message });
	}

	private groupPost(
		threadId: number | undefined,
		content: PersonContent,
		options: GroupPostOptions,
	): TelegramMessage {
		const state =
			options.chatId === undefined ? this.model.groupState() : this.model.chats.get(options.chatId);
		if (!state || !this.model.isGroup(state)) throw new Error(`no forum ${options.chatId}`);
		let sender: Pick<TelegramMessage, "from" | "sender_chat">;
		if (options.anonymous) {
			sender = { from: GROUP_ANONYMOUS_BOT, sender_chat: state.chat };
		} else {
			const from = asUser(options.from ?? this.model.operator);
			this.model.rememberUser(from);
			this.model.groupMembers.add(from.id);
			sender = { from };
		}
		const replyTo = this.replyTarget(state, options.replyToMessageId);
		const message = this.model.appendMessage(state, {
			...this.model.threadFields(state, threadId, replyTo),
			...sender,
			...buildContent(this.model.files, content),
		});
		this.updates.push({ message });
		return message;
	}

	private replyTarget(
		state: ChatState,
		messageId: number | undefined,
	): TelegramMessage | undefined {
		if (messageId === undefined) return undefined;
		const message = state.messages.get(messageId);
		if (!message) throw new Error(`no message ${messageId} in chat ${state.chat.id} to reply to`);
		return message;
	}

	private pushEdit(message: TelegramMessage, newText: string): TelegramMessage {
		const next = edited(message, newText);
		this.model.replaceMessage(next);
		this.updates.push({ edited_message: next });
		return next;
	}
}
