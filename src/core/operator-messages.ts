/**
 * Operators answer inside a customer's topic; their messages are stored once and reach every
 * channel the customer uses.
 */
import { and, eq } from "drizzle-orm";
import { dateOrNull, rawQuery } from "../db/raw-sql.ts";
import { messageCopies, messages, type TicketStatus } from "../db/schema.ts";
import { assignTicket } from "./assignment.ts";
import { changeStatus, type StatusChangeOptions } from "./status.ts";
import { type StoredMessage, toStored } from "./stored-message.ts";
import { messageByCopy } from "./telegram-customers.ts";
import { storeTelegramMedia, type TelegramMedia } from "./telegram-media.ts";
import type { Work } from "./unit-of-work.ts";

export interface OperatorMessageInput {
	topicId: number;
	groupId: number;
	/** The group's key (`groupKey`): topic ids are numbered per group. */
	groupKey: number;
	/**
	 * The message in the topic that the customer's copies come from. Absent for a text the bot
	 * sends on the operator's behalf (a canned reply): the private chat gets the text itself.
	 */
	telegramMessageId?: number;
	text: string;
	entities?: unknown;
	media?: TelegramMedia;
	/** The topic message this one replies to, if any (not the topic's root). */
	replyToTelegramMessageId?: number;
	operatorId?: number;
	/** The operator's name and username as Telegram shows them now (for `/stats`). */
	operatorName?: string;
	operatorUsername?: string;
	/** Posted as the group itself (an anonymous admin): nobody to make the ticket's assignee. */
	anonymous?: boolean;
}

/**
 * The customer of a topic, locked first, as every other path does (a web message updates the
 * row before touching its timers): one lock order, no deadlock between an answer and a question.
 * Also reads what the reply's effects depend on, in the same round trip. Parameters: topic id, group key.
 */
const TOPIC_CUSTOMER_SQL = `select c.id, c.telegram_user_id, c.status, c.assignee_id,
	exists (select 1 from web_sessions s where s.customer_id = c.id) as has_web
from customers c where coalesce(c.group_id, 0) = $2::bigint and c.topic_id = $1::bigint
limit 1 for update of c`;

/**
 * The reply stored, its topic copy recorded and the SLA clock stopped (an operator answered,
 * until the customer writes again), in one statement. Parameters: customer, text, entities
 * (JSON text or null), media id, reply-to id, group chat id, topic message id, and the operator
 * (Telegram id, name, username: kept in `operators` when they changed).
 */
const STORE_REPLY_SQL = `with m as (
	insert into messages (customer_id, author, channel, text, entities, media_id, reply_to_id,
		operator_id)
	values ($1::uuid, 'support', 'telegram', $2::text, $3::text::jsonb, $4::uuid, $5::uuid,
		$8::bigint)
	returning id, seq, customer_seq, created_at
), who as (
	-- Written only when the name changed: an upsert would lock the operator's row until commit
	-- even when it changes nothing, and every reply of that operator would wait for the last.
	insert into operators (telegram_user_id, name, username)
	select $8::bigint, $9::text, $10::text where $8::bigint is not null and not exists (
		select 1 from operators o where o.telegram_user_id = $8::bigint and o.name = $9::text
			and o.username is not distinct from $10::text)
	on conflict (telegram_user_id) do update set name = excluded.name, username = excluded.username
), copy as (
	insert into message_copies (message_id, kind, chat_id, telegram_message_id, state)
	select id, 'topic', $6::bigint, $7::bigint, 'delivered' from m where $7::bigint is not null
), sla as (
	delete from timers where customer_id = $1::uuid and kind = 'sla'
)
select id, seq, customer_seq, created_at from m`;

interface StoredReplyRow {
	id: string;
	seq: number | string;
	customer_seq: number | string;
	created_at: Date | string;
}

interface TopicCustomerRow {
	id: string;
	telegram_user_id: number | string | null;
	status: string;
	assignee_id: number | string | null;
	has_web: boolean;
}

/**
 * Records an operator's message posted in a topic and delivers it to every channel of the
 * customer: stored and pushed to the widget at once, copied to the private chat by the outbox.
 * Returns null when the topic belongs to no customer (e.g. a topic operators made themselves).
 * Two statements in the common case (fixed SQL): the customer with its facts, then
 * the message with its copy and the stopped SLA clock.
 */
export async function recordOperatorMessage(
	work: Work,
	input: OperatorMessageInput,
): Promise<StoredMessage | null> {
	const [customer] = await rawQuery<TopicCustomerRow>(work.tx, TOPIC_CUSTOMER_SQL, [
		input.topicId,
		input.groupKey,
	]);
	if (!customer) return null;
	const replyTo =
		input.replyToTelegramMessageId !== undefined
			? await messageByCopy(work, input.groupId, input.replyToTelegramMessageId)
			: null;
	const attachment = input.media ? await storeTelegramMedia(work, customer.id, input.media) : null;
	const entities = input.entities ?? null;
	const [row] = await rawQuery<StoredReplyRow>(work.tx, STORE_REPLY_SQL, [
		customer.id,
		input.text,
		entities === null ? null : JSON.stringify(entities),
		attachment?.id ?? null,
		replyTo,
		input.groupId,
		input.telegramMessageId ?? null,
		input.operatorId ?? null,
		input.operatorName ?? String(input.operatorId ?? ""),
		input.operatorUsername ?? null,
	]);
	if (!row) throw new Error("message insert returned nothing");
	const message = toStored(
		{
			id: row.id,
			seq: Number(row.seq),
			customerSeq: Number(row.customer_seq),
			customerId: customer.id,
			author: "support",
			channel: "telegram",
			text: input.text,
			entities,
			mediaId: attachment?.id ?? null,
			replyToId: replyTo,
			operatorId: input.operatorId ?? null,
			clientMessageId: null,
			createdAt: dateOrNull(row.created_at) as Date,
			editedAt: null,
		},
		attachment,
	);
	work.emit(customer.id, { type: "message", message });
	if (customer.telegram_user_id != null)
		await work.enqueue(customer.id, { kind: "dm_message", messageId: row.id });
	// Stored and pushed is delivered for a web customer; a Telegram-only customer's reply counts
	// once the outbox has copied it into the private chat. Only a NEW ticket changes.
	// The row as locked above: the status changes and the assignment need not read it again.
	const assigneeId = customer.assignee_id == null ? null : Number(customer.assignee_id);
	const locked = { status: customer.status as TicketStatus, assigneeId };
	if (customer.has_web && customer.status === "NEW")
		await markReplyDelivered(work, customer.id, input.operatorId, locked);
	if (
		work.policy.autoAssign &&
		customer.assignee_id == null &&
		!input.anonymous &&
		input.operatorId
	)
		await assignTicket(
			work,
			customer.id,
			{
				telegramUserId: input.operatorId,
				name: input.operatorName ?? String(input.operatorId),
				username: input.operatorUsername ?? null,
			},
			{
				by: "first-reply",
				actor: `operator:${input.operatorId}`,
				onlyIfUnassigned: true,
				lockedAssignee: assigneeId,
			},
		);
	return message;
}

/** NEW → IN_PROGRESS once an operator reply reached at least one channel. */
export async function markReplyDelivered(
	work: Work,
	customerId: string,
	operatorId?: number,
	locked?: StatusChangeOptions["locked"],
) {
	await changeStatus(
		work,
		customerId,
		"IN_PROGRESS",
		operatorId ? `operator:${operatorId}` : "operator",
		{ onlyFrom: ["NEW"], ...(locked && { locked }) },
	);
}

/**
 * An operator edited a message already delivered: the stored text changes and open widgets get
 * `message_edited`. Edits of anything that is not an operator's message are ignored.
 */
export async function editOperatorMessage(
	work: Work,
	input: { groupId: number; telegramMessageId: number; text: string },
): Promise<boolean> {
	const [copy] = await work.tx
		.select({ messageId: messageCopies.messageId })
		.from(messageCopies)
		.innerJoin(messages, eq(messages.id, messageCopies.messageId))
		.where(
			and(
				eq(messageCopies.chatId, input.groupId),
				eq(messageCopies.telegramMessageId, input.telegramMessageId),
				eq(messageCopies.kind, "topic"),
				eq(messages.author, "support"),
			),
		)
		.limit(1);
	if (!copy) return false;
	const editedAt = new Date();
	const [row] = await work.tx
		.update(messages)
		.set({ text: input.text, editedAt })
		.where(eq(messages.id, copy.messageId))
		.returning({ customerId: messages.customerId });
	if (!row) return false;
	// The customer's private-chat copy follows (the handler skips messages never copied there).
	await work.enqueue(row.customerId, { kind: "dm_edit", messageId: copy.messageId });
	work.emit(row.customerId, {
		type: "message_edited",
		id: copy.messageId,
		text: input.text,
		editedAt: editedAt.toISOString(),
	});
	return true;
}
