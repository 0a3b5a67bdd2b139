/**
 * The database schema (Drizzle, snake_case columns). Migrations in drizzle/ are generated from
 * this file with `bun run db:generate`; never edit them by hand.
 */
import { sql } from "drizzle-orm";
import {
	bigint,
	check,
	customType,
	index,
	integer,
	jsonb,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex,
	uuid,
} from "drizzle-orm/pg-core";
import { createdAt } from "./schema-bookkeeping.ts";

export const ticketStatuses = ["NEW", "IN_PROGRESS", "WAITING_CLIENT", "CLOSED"] as const;
export type TicketStatus = (typeof ticketStatuses)[number];

/** A visitor's details as the site vouched for them (signed identity). */
export interface VerifiedIdentity {
	name?: string;
	email?: string;
	fields?: Record<string, string>;
}

/** One person, whatever channel they write from; holds the single ticket state and topic. */
export const customers = pgTable(
	"customers",
	{
		id: uuid().primaryKey().defaultRandom(),
		status: text().$type<TicketStatus>().notNull().default("NEW"),
		displayName: text().notNull(),
		topicId: integer(),
		cardMessageId: integer(),
		telegramUserId: bigint({ mode: "number" }),
		telegramUsername: text(),
		telegramFirstName: text(),
		telegramLastName: text(),
		/** Language of the bot's texts for this customer (from Telegram's language_code). */
		locale: text(),
		phone: text(),
		sourceUrl: text(),
		city: text(),
		/** Set once the bot asked for a phone number, so it asks once. */
		phoneAskedAt: timestamp({ withTimezone: true, mode: "date" }),
		createdAt: createdAt(),
		lastMessageAt: timestamp({ withTimezone: true, mode: "date" }),
		/** The site's own id of a logged-in visitor, proven by its HMAC: one customer per user. */
		externalUserId: text(),
		/** What the site vouched for with that id: `{ name?, email?, fields? }` (core/identity.ts). */
		identity: jsonb().$type<VerifiedIdentity>(),
		/**
		 * The operator who owns the ticket (Telegram user id, a row of `operators`); kept when the
		 * ticket closes, so a reopened ticket goes back to them.
		 */
		assigneeId: bigint({ mode: "number" }),
		/**
		 * The support group the customer's topic lives in, chosen once when they are created
		 * (routing rules, else the shortest write queue), changed only by `/move`. Null: the
		 * default group (the first configured), as for every customer from before several groups.
		 */
		groupId: bigint({ mode: "number" }),
	},
	(t) => [
		// `/stats` counts tickets by status from this index alone.
		index("customers_status_idx").on(t.status),
		// Topic ids are numbered per group: one customer per topic of each group (null: default).
		uniqueIndex("customers_group_topic_uq").on(sql`coalesce(${t.groupId}, 0)`, t.topicId),
		uniqueIndex("customers_telegram_user_id_uq").on(t.telegramUserId),
		uniqueIndex("customers_external_user_id_uq").on(t.externalUserId),
	],
);

/** A web session: the opaque id the widget holds in its cookie or storage. */
export const webSessions = pgTable(
	"web_sessions",
	{
		id: uuid().primaryKey(),
		customerId: uuid()
			.notNull()
			.references(() => customers.id, { onDelete: "cascade" }),
		createdAt: createdAt(),
		lastSeenAt: createdAt(),
		/** The client's network (IP, IPv6 /64) the session started from: its daily quotas' key. */
		clientKey: text(),
	},
	(t) => [index("web_sessions_customer_idx").on(t.customerId)],
);

export const authors = ["user", "support", "system"] as const;
export type Author = (typeof authors)[number];
export const channels = ["web", "telegram"] as const;
export type Channel = (typeof channels)[number];

/**
 * The canonical record of every message, whatever its channel. `seq` is desk-wide and stays inside
 * the service; `customerSeq`, the message's number in its conversation, is the web's `seq`. The
 * `messages_number` trigger sets it (src/db/functions/messages.sql); the default only lets an
 * insert leave it out.
 */
export const messages = pgTable(
	"messages",
	{
		id: uuid().primaryKey().defaultRandom(),
		seq: bigint({ mode: "number" }).generatedAlwaysAsIdentity().notNull(),
		customerSeq: bigint({ mode: "number" }).notNull().default(0),
		customerId: uuid()
			.notNull()
			.references(() => customers.id, { onDelete: "cascade" }),
		author: text().$type<Author>().notNull(),
		channel: text().$type<Channel>().notNull(),
		text: text().notNull().default(""),
		entities: jsonb(),
		mediaId: uuid().references(() => media.id, { onDelete: "set null" }),
		replyToId: uuid(),
		clientMessageId: text(),
		createdAt: createdAt(),
		editedAt: timestamp({ withTimezone: true, mode: "date" }),
		/** Who answered (Telegram user id), for an operator's message. */
		operatorId: bigint({ mode: "number" }),
	},
	(t) => [
		uniqueIndex("messages_seq_uq").on(t.seq),
		// `/stats`: operators' replies of the last days, without reading customers' messages.
		index("messages_support_at_idx").on(t.createdAt).where(sql`${t.author} = 'support'`),
		uniqueIndex("messages_customer_number_uq").on(t.customerId, t.customerSeq),
		uniqueIndex("messages_client_id_uq").on(t.customerId, t.clientMessageId),
	],
);

/**
 * The last number given to a message of each customer (`messages.customer_seq`); it only grows, so
 * no number is handed out twice. Why a table of its own: src/db/functions/messages.sql.
 */
export const messageCounters = pgTable("message_counters", {
	customerId: uuid()
		.primaryKey()
		.references(() => customers.id, { onDelete: "cascade" }),
	lastSeq: bigint({ mode: "number" }).notNull(),
});

export const copyKinds = ["topic", "dm"] as const;
export type CopyKind = (typeof copyKinds)[number];

/** Where a message lives in Telegram: its copy in the topic and in the customer's DM. */
export const messageCopies = pgTable(
	"message_copies",
	{
		messageId: uuid()
			.notNull()
			.references(() => messages.id, { onDelete: "cascade" }),
		kind: text().$type<CopyKind>().notNull(),
		chatId: bigint({ mode: "number" }).notNull(),
		telegramMessageId: integer(),
		state: text().$type<"pending" | "delivered" | "failed">().notNull().default("pending"),
		error: text(),
		updatedAt: createdAt(),
	},
	(t) => [
		primaryKey({ columns: [t.messageId, t.kind] }),
		index("message_copies_tg_idx").on(t.chatId, t.telegramMessageId),
	],
);

export const outboxStates = ["pending", "done", "dead"] as const;
export type OutboxState = (typeof outboxStates)[number];

/**
 * Everything owed to Telegram, written in the transaction that caused it and delivered by the
 * outbox worker, strictly in `id` order per customer.
 */
export const outbox = pgTable(
	"outbox",
	{
		id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
		/** Null only for notices about no one customer (the General topic, `group_notice`). */
		customerId: uuid().references(() => customers.id, { onDelete: "cascade" }),
		kind: text().notNull(),
		payload: jsonb().notNull(),
		/** The chat the item writes to, `group` or `dm`: whose flood budget it draws from. */
		target: text().$type<"group" | "dm">().notNull().default("group"),
		/** Customer messages operators must see go before reminders and card edits. */
		priority: integer().notNull().default(1),
		state: text().$type<OutboxState>().notNull().default("pending"),
		attempts: integer().notNull().default(0),
		nextAttemptAt: createdAt(),
		lockedUntil: timestamp({ withTimezone: true, mode: "date" }).notNull().default(sql`'epoch'`),
		lastError: text(),
		createdAt: createdAt(),
		doneAt: timestamp({ withTimezone: true, mode: "date" }),
	},
	(t) => [
		// Each customer's queue in order: the next head after a finish, the repair sweep.
		index("outbox_pending_idx").on(t.customerId, t.id).where(sql`${t.state} = 'pending'`),
		// Retention prunes delivered items by age.
		index("outbox_done_idx").on(t.doneAt).where(sql`${t.state} = 'done'`),
	],
);

/**
 * The head of each customer's outbox queue (docs/ARCHITECTURE.md, "Outbox heads"): the one item
 * that may be claimed or is in flight, so a claim reads only runnable heads, never the backlog
 * behind them. Kept in the transaction of every enqueue (`ENQUEUE_SQL`), finish,
 * failure, `/retry`, merge and erasure, by the SQL functions in src/db/functions/. Notices about
 * no one customer (`group_notice`, customer_id null) share the queue of the nil UUID, so
 * there is no foreign key. `readyAt` is when the head may be claimed: the lease end while in
 * flight, the retry time after a failure, `'infinity'` when the queue is empty (`headId` null).
 * An empty queue's head has target `'idle'`: it lies outside the claim's index range for
 * `'group'` and `'dm'`, so a claim never walks past the heads of customers with nothing to send
 * (with 100,000 idle customers it would otherwise read them all whenever fewer heads are ready
 * than it may take). No partial index for that: statements aimed at the primary key must never
 * be planned through one whose statistics say "empty".
 */
export const outboxHeads = pgTable(
	"outbox_heads",
	{
		customerId: uuid().primaryKey(),
		headId: bigint({ mode: "number" }),
		target: text().$type<"group" | "dm" | "idle">().notNull().default("idle"),
		priority: integer().notNull().default(1),
		readyAt: timestamp({ withTimezone: true, mode: "date" }).notNull().default(sql`'infinity'`),
		/**
		 * The support group whose budget the queue's group work draws from: the customer's group,
		 * 0 for the default group (and for notices naming none), so a claim per group reads one
		 * index range.
		 */
		groupId: bigint({ mode: "number" }).notNull().default(0),
	},
	(t) => [
		// The claim: runnable heads of one target (and group) in serving order.
		index("outbox_heads_ready_idx").on(t.target, t.groupId, t.priority, t.readyAt, t.headId),
		index("outbox_heads_head_idx").on(t.headId),
		// What lets the claim leave `head_id is not null` out (and so always plan by the index
		// above): only an empty queue is idle.
		check("outbox_heads_idle_check", sql`(${t.headId} is null) = (${t.target} = 'idle')`),
	],
);

/** The ticket's log: every status change and notable fact, with who or what caused it. */
export const ticketEvents = pgTable(
	"ticket_events",
	{
		id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
		customerId: uuid()
			.notNull()
			.references(() => customers.id, { onDelete: "cascade" }),
		kind: text().notNull(),
		fromStatus: text().$type<TicketStatus>(),
		toStatus: text().$type<TicketStatus>(),
		actor: text().notNull(),
		details: jsonb(),
		createdAt: createdAt(),
	},
	(t) => [
		index("ticket_events_customer_idx").on(t.customerId, t.id),
		// `/stats`: openings, closes and ratings of a period.
		index("ticket_events_kind_at_idx").on(t.kind, t.createdAt),
	],
);

export const timerKinds = ["sla", "waiting_reminder", "waiting_autoclose"] as const;
export type TimerKind = (typeof timerKinds)[number];

/**
 * Durable timers: at most one of each kind per customer, fired once by whichever
 * instance claims it first (`FOR UPDATE SKIP LOCKED`), in the transaction that applies its effect.
 */
export const timers = pgTable(
	"timers",
	{
		customerId: uuid()
			.notNull()
			.references(() => customers.id, { onDelete: "cascade" }),
		kind: text().$type<TimerKind>().notNull(),
		fireAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
		/** SLA: which reminder is next (0-based) and the time the clock counts from. */
		step: integer().notNull().default(0),
		since: timestamp({ withTimezone: true, mode: "date" }),
		/** Failed firings so far; after a few the timer is parked (`parkedAt`) with `lastError`. */
		attempts: integer().notNull().default(0),
		lastError: text(),
		parkedAt: timestamp({ withTimezone: true, mode: "date" }),
		createdAt: createdAt(),
	},
	(t) => [
		primaryKey({ columns: [t.customerId, t.kind] }),
		index("timers_fire_at_idx").on(t.fireAt),
	],
);

/** Raw bytes (PostgreSQL `bytea`), as a Uint8Array on both drivers. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
	dataType: () => "bytea",
});

export const mediaKinds = [
	"image",
	"document",
	"voice",
	"audio",
	"video",
	"animation",
	"sticker",
	"video_note",
] as const;
export type MediaKind = (typeof mediaKinds)[number];

/**
 * A file attached to a message. Web uploads keep their bytes here (every instance can deliver
 * them to Telegram); files that came from Telegram keep only the file id and are proxied.
 */
export const media = pgTable(
	"media",
	{
		id: uuid().primaryKey().defaultRandom(),
		customerId: uuid()
			.notNull()
			.references(() => customers.id, { onDelete: "cascade" }),
		kind: text().$type<MediaKind>().notNull(),
		mimeType: text().notNull(),
		fileName: text(),
		size: integer().notNull(),
		duration: integer(),
		bytes: bytea(),
		telegramFileId: text(),
		createdAt: createdAt(),
		/** Set when retention deleted the file (bytes and Telegram file id): history shows a stub. */
		expiredAt: timestamp({ withTimezone: true, mode: "date" }),
	},
	(t) => [
		index("media_customer_idx").on(t.customerId),
		// Retention looks for files past their time that are not expired yet.
		index("media_retention_idx").on(t.createdAt).where(sql`${t.expiredAt} is null`),
	],
);

/** Single-use web→Telegram link tokens; only a hash of the token is stored. */
export const linkTokens = pgTable(
	"link_tokens",
	{
		tokenHash: text().primaryKey(),
		customerId: uuid()
			.notNull()
			.references(() => customers.id, { onDelete: "cascade" }),
		expiresAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
		usedAt: timestamp({ withTimezone: true, mode: "date" }),
		/** The Telegram user asked to confirm: only they may press "Link". */
		offeredTo: bigint({ mode: "number" }),
		createdAt: createdAt(),
	},
	(t) => [index("link_tokens_customer_idx").on(t.customerId)],
);

export * from "./schema-bookkeeping.ts";
