/**
 * Quotas (SPEC §4.5): beyond the per-minute rates, caps that keep one visitor from filling the
 * disk or the support group. Daily counts (new sessions and new topics per client IP, media
 * downloads per customer) live in PostgreSQL, so they hold across restarts and instances; stored
 * upload bytes are read from the files themselves.
 */

import { type Static, type TInteger, type TOptional, Type } from "@sinclair/typebox";
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { prepared } from "../db/prepared.ts";
import { AppError } from "./errors.ts";

const MB = 1024 * 1024;

/**
 * Defaults sized for a busy shop: a mobile carrier's NAT or an office puts many real visitors
 * behind one address, so the per-IP caps are far above what one person does in a day.
 */
export const quotaDefaults = {
	/** New web sessions per client IP (IPv6: per /64) per UTC day. */
	sessionsPerIpPerDay: 500,
	/** New conversations (each opens a topic in the support group) per client IP per UTC day. */
	topicsPerIpPerDay: 100,
	/** Bytes of uploaded files stored for one customer. */
	uploadBytesPerCustomer: 200 * MB,
	/** Bytes of uploaded files stored in total. */
	uploadBytesTotal: 20 * 1024 * MB,
	/** Uploads being received at once, per instance. */
	concurrentUploads: 32,
	/** Uploads being received at once for one customer. */
	concurrentUploadsPerCustomer: 2,
	/** Media downloads (`GET /api/media/:id`) of one customer's files per UTC day. */
	mediaDownloadsPerCustomerPerDay: 2000,
} as const;

export type QuotaKind = keyof typeof quotaDefaults;
export type Quotas = Record<QuotaKind, number>;

/** The `quotas` object of the config file: any subset of the kinds, positive integers. */
export const QuotasSchema = Type.Object(
	Object.fromEntries(
		Object.keys(quotaDefaults).map((kind) => [kind, Type.Optional(Type.Integer({ minimum: 1 }))]),
	) as { [K in QuotaKind]: TOptional<TInteger> },
	{ additionalProperties: false, description: "an object of quotas (positive integers)" },
);
export type QuotaOverrides = Static<typeof QuotasSchema>;

/** The effective quotas: defaults with the config file's overrides. */
export function resolveQuotas(overrides: Partial<Quotas> | undefined): Quotas {
	return { ...quotaDefaults, ...overrides };
}

/** The 429 of a quota; `Retry-After` is given when the quota is daily (until UTC midnight). */
export function quotaExceeded(message: string, daily = false): AppError {
	const now = new Date();
	const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
	return new AppError(
		"QUOTA_EXCEEDED",
		message,
		429,
		daily ? { "retry-after": String(Math.ceil((midnight - now.getTime()) / 1000)) } : undefined,
	);
}

/** Over the daily cap on new conversations of the client (`topicsPerIpPerDay`). */
export const conversationsExceeded = () =>
	quotaExceeded("Too many new conversations from this network today.", true);

/**
 * Spends `$amount` of today's quota for the key the statement's `k` yields (none: nothing) when
 * that keeps it within `$limit`; `spent` has a row when it did. One statement: concurrent
 * spenders never overshoot. Shared by `spendDaily` and `spendOnOpening`.
 */
const spentFromK = (amount: string, limit: string) => `spent as (
	insert into quota_usage (key, day, used)
	select k.key, (now() at time zone 'utc')::date, ${amount} from k where ${amount} <= ${limit}
	on conflict (key, day) do update set used = quota_usage.used + ${amount}
		where quota_usage.used + ${amount} <= ${limit}
	returning used
)`;

const SPEND_DAILY_SQL = `with k as (select $1::text as key), ${spentFromK("$2::bigint", "$3::bigint")}
select exists (select 1 from spent) as spent`;

/**
 * Spends `amount` of today's quota `key` (e.g. `session:203.0.113.7`) when that keeps it within
 * `limit`; answers whether it did.
 *
 * @example if (!(await spendDaily(db, `session:${ip}`, 500))) throw quotaExceeded("…", true);
 */
export async function spendDaily(
	database: Database,
	key: string,
	limit: number,
	amount = 1,
): Promise<boolean> {
	const [row] = await prepared<{ spent: boolean }>(database.db, SPEND_DAILY_SQL, [
		key,
		amount,
		limit,
	]);
	// Yesterday's counts are of no use; clearing them now and then keeps the table small.
	if (Math.random() < 0.01)
		await database.db
			.execute(sql`delete from quota_usage where day < (now() at time zone 'utc')::date - 1`)
			.catch(() => undefined);
	return row?.spent === true;
}

/**
 * A web customer's next message and the conversation quota, in one statement: when the message
 * opens a conversation (no topic yet, nothing written yet), one unit of the daily `topic:` quota
 * of the client key their session was created from is spent, if `limit` allows. "started": the
 * conversation exists (or the session has no client key), nothing spent; "spent"; "refused".
 */
const SPEND_ON_OPENING_SQL = `with opening as (
	select s.client_key from customers c join web_sessions s on s.customer_id = c.id
	where c.id = $1::uuid and c.topic_id is null
		and not exists (select 1 from messages m where m.customer_id = c.id and m.author = 'user')
	order by s.created_at limit 1
), k as (
	select 'topic:' || client_key as key from opening where client_key is not null
), ${spentFromK("1", "$2::bigint")}
select exists (select 1 from k) as opening, exists (select 1 from spent) as spent`;

export async function spendOnOpening(
	database: Database,
	customerId: string,
	limit: number,
): Promise<"started" | "spent" | "refused"> {
	const [row] = await prepared<{ opening: boolean; spent: boolean }>(
		database.db,
		SPEND_ON_OPENING_SQL,
		[customerId, limit],
	);
	if (!row?.opening) return "started";
	return row.spent ? "spent" : "refused";
}

/**
 * The conversation quota of a message that may open a conversation (`limit` given), in a
 * statement of its own: uploads and the general path of a text message. The web hot path spends
 * it inside its accept instead (migration 0014). Over it: 429 and nothing stored.
 */
export async function chargeOpening(
	database: Database,
	customerId: string,
	limit: number | undefined,
): Promise<void> {
	if (limit === undefined) return;
	if ((await spendOnOpening(database, customerId, limit)) === "refused")
		throw conversationsExceeded();
}

/** Bytes of uploaded files stored for a customer and in total. */
export async function storedUploadBytes(
	database: Database,
	customerId: string,
): Promise<{ customer: number; total: number }> {
	const [row] = await database.query<{ customer: string | number; total: string | number }>(sql`
		select coalesce(sum(size) filter (where customer_id = ${customerId}), 0) as customer,
			coalesce(sum(size), 0) as total
		from media where bytes is not null`);
	return { customer: Number(row?.customer ?? 0), total: Number(row?.total ?? 0) };
}
