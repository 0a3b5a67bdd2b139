/**
 * Quotas: beyond the per-minute rates, caps that keep one visitor from filling the
 * disk or the support group. Daily counts (new sessions and new topics per client IP, media
 * downloads per customer) live in PostgreSQL, so they hold across restarts and instances; stored
 * upload bytes are read from the files themselves.
 */

import { type Static, type TInteger, type TOptional, Type } from "@sinclair/typebox";
import { sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import { arrayLiteral, quotedArrayLiteral, rawQuery, rawStatement } from "../db/raw-sql.ts";
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
	/** Uploads being received at once from one client IP (IPv6: one /64). */
	concurrentUploadsPerIp: 4,
	/** Uploads being received at once from one network (IPv4: a /24; IPv6: a /64). */
	concurrentUploadsPerNetwork: 8,
	/**
	 * An upload's body arriving slower than this on average (bytes per second), measured once
	 * `uploadMinRateAfterSeconds` have passed, is cut with 408: a slow sender cannot hold an upload
	 * slot for as long as it likes.
	 */
	uploadMinBytesPerSecond: 16 * 1024,
	uploadMinRateAfterSeconds: 10,
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
 * Spends `$3` of today's quota `$1` when that keeps it within `$2`; a row when it did. One
 * statement: concurrent spenders never overshoot.
 */
const SPEND_DAILY_SQL = `with spent as (
	insert into quota_usage (key, day, used)
	select $1::text, (now() at time zone 'utc')::date, $3::bigint where $3::bigint <= $2::bigint
	on conflict (key, day) do update set used = quota_usage.used + $3::bigint
		where quota_usage.used + $3::bigint <= $2::bigint
	returning used
)
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
	const [row] = await rawStatement<{ spent: boolean }>(database, SPEND_DAILY_SQL, [
		key,
		limit,
		amount,
	]);
	// Yesterday's counts are of no use; clearing them now and then keeps the table small.
	if (Math.random() < 0.01)
		await database.db
			.execute(sql`delete from quota_usage where day < (now() at time zone 'utc')::date - 1`)
			.catch(() => undefined);
	return row?.spent === true;
}

/**
 * Which of these customers' messages open a conversation (no topic yet, nothing written yet),
 * and the daily `topic:` quota of the client key their first session was created from, spent
 * for all of them at once: a key's units are added in one upsert, whose row lock holds until
 * the caller's transaction ends, so concurrent spenders never overshoot. Parameters: customer
 * ids, their caps (one array element each). Each row: a customer that opens a conversation, its
 * key's usage after the upsert, how many of the batch asked on that key, its rank among them,
 * and the cap.
 */
const SPEND_ON_OPENINGS_SQL = `with opening as (
	select c.id, i.cap, (select s.client_key from web_sessions s where s.customer_id = c.id
		order by s.created_at limit 1) as client_key
	from unnest($1::text::uuid[], $2::text::int[]) as i(id, cap) join customers c on c.id = i.id
	where c.topic_id is null
		and not exists (select 1 from messages m where m.customer_id = c.id and m.author = 'user')
), asked as (
	select id, 'topic:' || client_key as key, cap,
		row_number() over (partition by client_key order by id) as rank
	from opening where client_key is not null
), wanted as (
	select key, count(*)::int as asked, min(cap) as cap from asked group by key
), spent as (
	insert into quota_usage as q (key, day, used)
	select key, (now() at time zone 'utc')::date, asked from wanted
	on conflict (key, day) do update set used = q.used + excluded.used
	returning key, used
)
select a.id, a.key, s.used::int as used, w.asked, a.rank::int as rank, w.cap
from asked a join wanted w using (key) join spent s using (key)`;

/** Gives back units spent beyond a key's cap (refused messages spend nothing). */
const CAP_USAGE_SQL = `update quota_usage q set used = v.used
from unnest($1::text::text[], $2::text::int[]) as v(key, used)
where q.key = v.key and q.day = (now() at time zone 'utc')::date`;

/** A message that may open a conversation, with the daily cap on conversations to check. */
export interface Opener {
	customerId: string;
	limit: number;
}

/**
 * Spends the conversation quota for the messages among these that open a
 * conversation, in the caller's transaction (rolled back with it); answers the customers whose
 * message is over the cap (lower-case ids): those must store nothing (429 `QUOTA_EXCEEDED`), and
 * those whose message opens a conversation within it.
 */
export async function spendOnOpenings(
	tx: Tx,
	openers: readonly Opener[],
): Promise<{ refused: Set<string>; opening: Set<string> }> {
	const refused = new Set<string>();
	const opening = new Set<string>();
	if (openers.length === 0) return { refused, opening };
	const rows = await rawQuery<{
		id: string;
		key: string;
		used: number;
		asked: number;
		rank: number;
		cap: number;
	}>(tx, SPEND_ON_OPENINGS_SQL, [
		arrayLiteral(openers.map((opener) => opener.customerId)),
		arrayLiteral(openers.map((opener) => opener.limit)),
	]);
	const capped = new Map<string, number>();
	for (const row of rows) {
		// The key's usage before this batch, then the batch's askers in rank order up to the cap.
		const before = row.used - row.asked;
		if (before + row.rank > row.cap) refused.add(row.id.toLowerCase());
		else opening.add(row.id.toLowerCase());
		if (row.used > row.cap) capped.set(row.key, Math.max(before, row.cap));
	}
	if (capped.size > 0)
		await rawQuery(tx, CAP_USAGE_SQL, [
			quotedArrayLiteral([...capped.keys()]),
			arrayLiteral([...capped.values()]),
		]);
	return { refused, opening };
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
