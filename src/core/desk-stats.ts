/**
 * How the desk is doing, for `/stats`: tickets by status now, new tickets today and over 7 days,
 * the median first response over 7 days (inside business hours), satisfaction over 30 days, and
 * each operator's replies and closes over 7 days. Every figure is read through an index made
 * for it (customers by status, events by kind and time, operators' messages by time), so the
 * cost follows the period's activity, not the desk's history.
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

const BY_STATUS = "select status, count(*)::int as n from customers group by status";

/** Parameters: start of today, start of the week. */
const OPENINGS = `select count(*) filter (where created_at >= $1::text::timestamptz)::int as today,
	count(*)::int as week
from ticket_events where kind in ('OPENED', 'REOPENED') and created_at >= $2::text::timestamptz`;

/** Each opening of the week and the first operator reply after it. Parameter: start of the week. */
const FIRST_RESPONSES = `select e.created_at as opened,
	(select min(m.created_at) from messages m where m.customer_id = e.customer_id
		and m.author = 'support' and m.created_at >= e.created_at) as answered
from ticket_events e
where e.kind in ('OPENED', 'REOPENED') and e.created_at >= $1::text::timestamptz`;

/** Parameter: start of the 30 days. */
const CSAT = `select avg((details->>'rating')::numeric)::float8 as average, count(*)::int as n
from ticket_events where kind = 'RATED' and created_at >= $1::text::timestamptz`;

/** Replies and closes per operator since $1, with the name each operator last had. */
const PER_OPERATOR = `with replies as (
	select operator_id as id, count(*)::int as n from messages
	where author = 'support' and created_at >= $1::text::timestamptz and operator_id is not null
	group by operator_id
), closes as (
	select substr(actor, 10)::bigint as id, count(*)::int as n from ticket_events
	where kind = 'CLOSED' and created_at >= $1::text::timestamptz and actor ~ '^operator:[0-9]+$'
	group by actor
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
 * The desk's figures at `now`; "today" starts at midnight in `timeZone` (the operators'). Read in
 * the caller's transaction (the command's update), one statement after another: the embedded
 * database has one connection, which that transaction holds.
 */
export async function deskStats(
	executor: Db | Tx,
	options: { now: Date; timeZone: string; hours?: BusinessHours },
): Promise<DeskStats> {
	const { now } = options;
	const week = new Date(now.getTime() - 7 * DAY_MS).toISOString();
	const statuses = await rawQuery<{ status: TicketStatus; n: number }>(executor, BY_STATUS, []);
	const [openings] = await rawQuery<{ today: number; week: number }>(executor, OPENINGS, [
		startOfDay(now, options.timeZone).toISOString(),
		week,
	]);
	const responses = await rawQuery<{ opened: Date | string; answered: Date | string | null }>(
		executor,
		FIRST_RESPONSES,
		[week],
	);
	const [csat] = await rawQuery<{ average: number | null; n: number }>(executor, CSAT, [
		new Date(now.getTime() - 30 * DAY_MS).toISOString(),
	]);
	const operators = await rawQuery<{
		id: string | number;
		name: string | null;
		replies: number;
		closes: number;
	}>(executor, PER_OPERATOR, [week]);
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
