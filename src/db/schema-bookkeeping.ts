/**
 * The service's bookkeeping tables, none of them about one customer: updates applied or set
 * aside, where visitors came from, quota counts, the operators seen, instance-wide settings.
 * Re-exported by schema.ts, which drizzle-kit reads, so migrations see one schema.
 */
import { sql } from "drizzle-orm";
import {
	bigint,
	date,
	index,
	integer,
	jsonb,
	pgTable,
	primaryKey,
	text,
	timestamp,
} from "drizzle-orm/pg-core";

/** A row's creation time, set by the database. */
export const createdAt = () =>
	timestamp({ withTimezone: true, mode: "date" }).notNull().defaultNow();

/** Telegram update ids already applied, so a redelivered update has no second effect. */
export const processedUpdates = pgTable(
	"processed_updates",
	{
		updateId: bigint({ mode: "number" }).primaryKey(),
		processedAt: createdAt(),
	},
	// Retention prunes by age.
	(t) => [index("processed_updates_at_idx").on(t.processedAt)],
);

/**
 * Updates whose effects kept failing: acknowledged and skipped so intake
 * goes on, kept here with the reason for an operator to look at.
 */
export const failedUpdates = pgTable("failed_updates", {
	updateId: bigint({ mode: "number" }).primaryKey(),
	update: jsonb().notNull(),
	reason: text().notNull(),
	attempts: integer().notNull(),
	failedAt: createdAt(),
});

/** Where a visitor came from before opening the bot (`/ask-support`), kept for one hour. */
export const entryContexts = pgTable(
	"entry_contexts",
	{
		id: text().primaryKey(),
		pageUrl: text(),
		city: text(),
		ip: text(),
		expiresAt: timestamp({ withTimezone: true, mode: "date" }).notNull(),
		createdAt: createdAt(),
	},
	(t) => [index("entry_contexts_expires_idx").on(t.expiresAt)],
);

/** Daily quota counts: `session:<ip>`, `topic:<ip>`, `download:<customer>` per UTC day. */
export const quotaUsage = pgTable(
	"quota_usage",
	{
		key: text().notNull(),
		day: date({ mode: "string" }).notNull(),
		used: bigint({ mode: "number" }).notNull(),
	},
	(t) => [primaryKey({ columns: [t.key, t.day] }), index("quota_usage_day_idx").on(t.day)],
);

/**
 * The operators seen in the group (who answered, took or were given a ticket), by Telegram id,
 * with the name they last had.
 */
export const operators = pgTable(
	"operators",
	{
		telegramUserId: bigint({ mode: "number" }).primaryKey(),
		name: text().notNull(),
		username: text(),
	},
	// `/assign @username` finds the operator by the username as people type it.
	(t) => [index("operators_username_idx").on(sql`lower(${t.username})`)],
);

/**
 * Canned replies (`/r`), shared by every instance: one text per name and locale. `source` tells
 * a reply the config file preloads (it follows the file at each start) from one an operator
 * saved (never overwritten by the file).
 */
export const cannedReplies = pgTable(
	"canned_replies",
	{
		name: text().notNull(),
		locale: text().notNull(),
		text: text().notNull(),
		source: text().$type<"config" | "operator">().notNull(),
		updatedAt: createdAt(),
	},
	(t) => [primaryKey({ columns: [t.name, t.locale] })],
);

/** Small key/value store for generated secrets and instance-wide state. */
export const settings = pgTable("settings", {
	key: text().primaryKey(),
	value: text().notNull(),
	updatedAt: createdAt(),
});
