/**
 * How the desk is doing, for `/stats`: tickets by status now, new tickets today and over 7 days,
 * the median first response over 7 days (inside business hours), satisfaction over 30 days, and
 * each operator's replies and closes over 7 days. Every figure is read through an index made
 * for it (customers by status, events by kind and time, operators' messages by time), so the
 * cost follows the period's activity, not the desk's history.
 *
 * With several support groups each group sees its own figures: every statement takes the group's
 * key (`groupKey`), or null for the whole desk, and counts only the customers in that group now.
 * A customer moved to another group takes their whole history along (openings, replies, ratings
 * from before the move count in the group they are in now): a group's figures are about the
 * customers it serves, and a moved customer's history stays one ticket's history.
 */
import type { Db, Tx } from "../db/client.ts";
import { rawQuery } from "../db/raw-sql.ts";
import { type TicketStatus, ticketStatuses } from "../db/schema.ts";
import { type BusinessHours, businessTimeBetween, startOfDay } from "./business-hours.ts";

const DAY_MS = 86_400_000;

export interface DeskStats {
	byStatus: Record<TicketStatus, number>;
	newToday: number;
	newWeek: number;
	/** Median wait for the first operator reply of tickets opened in 7 days; null: none answered. */
	medianFirstResponseMs: number | null;
	answered: number;
	csat: { average: number | null; count: number };
	/** Operators with replies or closes in 7 days, most replies first. */
	operators: { name: string; replies: number; closes: number }[];
}

/**
 * The customer `column` names is in the group of key `$slot` (null: any group). Looked up by
 * primary key per row the period's index gives, never a scan of the customers; the default group
 * is stored as null (`coalesce`, as in the customers' topic index).
 */
const inGroup = (column: string, slot: number) =>
	`($${slot}::bigint is null or exists (select 1 from customers g where g.id = ${column}
		and coalesce(g.group_id, 0) = $${slot}::bigint))`;

/**
 * Parameter: the group's key or null. Filtered, the group's rows are found through the
 * customers' topic index, which leads with the same `coalesce(group_id, 0)`.
 */
const BY_STATUS = `select status, count(*)::int as n from customers
where $1::bigint is null or coalesce(group_id, 0) = $1::bigint
group by status`;

/** Parameters: start of today, start of the week, the group's key or null. */
const OPENINGS = `select count(*) filter (where e.created_at >= $1::text::timestamptz)::int as today,
	count(*)::int as week
from ticket_events e where e.kind in ('OPENED', 'REOPENED') and e.created_at >= $2::text::timestamptz
	and ${inGroup("e.customer_id", 3)}`;

/**
 * Each opening of the week and the first operator reply after it. Parameters: start of the week,
 * the group's key or null.
 */
const FIRST_RESPONSES = `select e.created_at as opened,
	(select min(m.created_at) from messages m where m.customer_id = e.customer_id
		and m.author = 'support' and m.created_at >= e.created_at) as answered
from ticket_events e
where e.kind in ('OPENED', 'REOPENED') and e.created_at >= $1::text::timestamptz
	and ${inGroup("e.customer_id", 2)}`;

/** Parameters: start of the 30 days, the group's key or null. */
const CSAT = `select avg((e.details->>'rating')::numeric)::float8 as average, count(*)::int as n
from ticket_events e where e.kind = 'RATED' and e.created_at >= $1::text::timestamptz
	and ${inGroup("e.customer_id", 2)}`;

/**
 * Replies and closes per operator since $1, with the name each operator last had; with a group's
 * key in $2, only those to the group's customers (an operator of several groups counts in each).
 */
const PER_OPERATOR = `with replies as (
	select m.operator_id as id, count(*)::int as n from messages m
	where m.author = 'support' and m.created_at >= $1::text::timestamptz
		and m.operator_id is not null and ${inGroup("m.customer_id", 2)}
	group by m.operator_id
), closes as (
	select substr(e.actor, 10)::bigint as id, count(*)::int as n from ticket_events e
	where e.kind = 'CLOSED' and e.created_at >= $1::text::timestamptz
		and e.actor ~ '^operator:[0-9]+$' and ${inGroup("e.customer_id", 2)}
	group by e.actor
), ids as (select id from replies union select id from closes)
select ids.id, o.name, coalesce(r.n, 0) as replies, coalesce(c.n, 0) as closes
from ids left join replies r using (id) left join closes c using (id)
left join operators o on o.telegram_user_id = ids.id
order by replies desc, closes desc`;

const timeOf = (value: Date | string) => (value instanceof Date ? value : new Date(value));

function median(values: number[]): number | null {
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The desk's figures at `now`; "today" starts at midnight in `timeZone` (the operators'). With
 * `groupKey` (`groupKey()` of a support group), the figures of that group's customers only.
 * Read in the caller's transaction (the command's update), one statement after another: the
 * embedded database has one connection, which that transaction holds.
 * @example await deskStats(tx, { now: new Date(), timeZone: "UTC", groupKey: 0 })
 */
export async function deskStats(
	executor: Db | Tx,
	options: { now: Date; timeZone: string; hours?: BusinessHours; groupKey?: number },
): Promise<DeskStats> {
	const { now } = options;
	const group = options.groupKey ?? null;
	const week = new Date(now.getTime() - 7 * DAY_MS).toISOString();
	const statuses = await rawQuery<{ status: TicketStatus; n: number }>(executor, BY_STATUS, [
		group,
	]);
	const [openings] = await rawQuery<{ today: number; week: number }>(executor, OPENINGS, [
		startOfDay(now, options.timeZone).toISOString(),
		week,
		group,
	]);
	const responses = await rawQuery<{ opened: Date | string; answered: Date | string | null }>(
		executor,
		FIRST_RESPONSES,
		[week, group],
	);
	const [csat] = await rawQuery<{ average: number | null; n: number }>(executor, CSAT, [
		new Date(now.getTime() - 30 * DAY_MS).toISOString(),
		group,
	]);
	const operators = await rawQuery<{
		id: string | number;
		name: string | null;
		replies: number;
		closes: number;
	}>(executor, PER_OPERATOR, [week, group]);
	const byStatus = Object.fromEntries(ticketStatuses.map((s) => [s, 0])) as DeskStats["byStatus"];
	for (const row of statuses) byStatus[row.status] = Number(row.n);
	const waits = responses.flatMap((row) =>
		row.answered == null
			? []
			: [businessTimeBetween(timeOf(row.opened), timeOf(row.answered), options.hours)],
	);
	return {
		byStatus,
		newToday: Number(openings?.today ?? 0),
		newWeek: Number(openings?.week ?? 0),
		medianFirstResponseMs: median(waits),
		answered: waits.length,
		csat: {
			average: csat?.average == null ? null : Number(csat.average),
			count: Number(csat?.n ?? 0),
		},
		operators: operators.map((row) => ({
			name: row.name ?? String(row.id),
			replies: Number(row.replies),
			closes: Number(row.closes),
		})),
	};
}
