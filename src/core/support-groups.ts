/**
 * Several support groups: which one a new customer joins (once, for life unless an operator
 * moves them), and how a group is written in the database. A customer's `group_id` is null for
 * the default group (the first configured), as for every customer from before several groups, and
 * an outbox head's `group_id` is 0 for it: the default group follows the configuration.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Tx } from "../db/client.ts";
import { rawQuery } from "../db/raw-sql.ts";
import { customers } from "../db/schema.ts";

/** A rule of `groups.routes`: every field it names must match. */
export interface GroupRoute {
	group: number;
	locale?: string;
	origin?: string;
	channel?: "web" | "telegram";
}

/** The support groups as the running bot knows them (the setup page may add some later). */
export interface SupportGroups {
	/** Every configured group, the default first. */
	ids(): number[];
	/** Groups new customers may join: the configured ones the bot can still write to. */
	open(): number[];
	routes: readonly GroupRoute[];
}

/** What is known of a new customer when their group is chosen. */
export interface NewCustomerFacts {
	channel: "web" | "telegram";
	/** Telegram's language of the customer; web customers have none. */
	locale?: string | null;
	/** The page the web customer came from. */
	pageUrl?: string | null;
}

/** The stored form of a group: null for the default group. */
export function storedGroup(groups: SupportGroups, groupId: number): number | null {
	return groupId === groups.ids()[0] ? null : groupId;
}

/**
 * The key of a group in `outbox_heads.group_id` and in the customers' topic index: 0 for the
 * default group (the first of `groups`), else its id.
 */
export function groupKey(groups: readonly number[], groupId: number): number {
	return groupId === groups[0] ? 0 : groupId;
}

/** The customer whose topic this is in the group of that key (topic ids are per group). */
export function topicOwner(topicId: number, key: number): SQL | undefined {
	return and(eq(customers.topicId, topicId), sql`coalesce(${customers.groupId}, 0) = ${key}`);
}

/** The customer whose topic this is, in the group of this key; null when none is. */
export async function customerOfTopic(
	executor: Tx | Db,
	topicId: number,
	key: number,
): Promise<string | null> {
	const [row] = await executor
		.select({ id: customers.id })
		.from(customers)
		.where(topicOwner(topicId, key))
		.limit(1);
	return row?.id ?? null;
}

/** The group a stored value names (null: the default group). */
export function groupOfStored(
	groups: readonly number[],
	stored: number | null,
): number | undefined {
	return stored ?? groups[0];
}

const hostOf = (url: string | null | undefined) => {
	try {
		return url ? new URL(url).hostname.toLowerCase() : undefined;
	} catch {
		return undefined;
	}
};

/** A rule's origin matches its domain and its subdomains, like ALLOWED_ORIGINS. */
function originMatches(rule: string, pageUrl: string | null | undefined) {
	const host = hostOf(pageUrl);
	const domain = rule
		.toLowerCase()
		.replace(/^[a-z]+:\/\//, "")
		.replace(/[/:].*$/, "");
	return host !== undefined && (host === domain || host.endsWith(`.${domain}`));
}

function matches(route: GroupRoute, facts: NewCustomerFacts) {
	if (route.channel && route.channel !== facts.channel) return false;
	if (route.locale && route.locale.toLowerCase() !== facts.locale?.toLowerCase()) return false;
	if (route.origin && !originMatches(route.origin, facts.pageUrl)) return false;
	return true;
}

/** Ties between equally short queues go round, so a quiet desk still spreads new customers. */
let turn = 0;
/**
 * Groups chosen in the last moments: their customers' first items may not be committed yet (a
 * rush chooses for many at once), so they count as queued, and a rush is spread evenly.
 */
const RECENT_MS = 5_000;
const recent: { group: number; at: number }[] = [];
const recentLoad = (group: number, now: number) => {
	while (recent.length > 0 && (recent[0]?.at ?? 0) < now - RECENT_MS) recent.shift();
	return recent.filter((choice) => choice.group === group).length;
};

/**
 * The stored group of a new customer: the first rule of `groups.routes` that matches and names
 * an open group, else the open group with the fewest queues waiting on its budget (the shortest
 * write queue, counting the customers just sent there whose work may not be committed yet). One group, or none open: the default group (null).
 * @example await chooseGroup(tx, groups, { channel: "telegram", locale: "ru" })
 */
export async function chooseGroup(
	tx: Tx,
	groups: SupportGroups | undefined,
	facts: NewCustomerFacts,
): Promise<number | null> {
	if (!groups) return null;
	const open = groups.open();
	if (groups.ids().length < 2 || open.length === 0) return null;
	const routed = groups.routes.find((route) => open.includes(route.group) && matches(route, facts));
	if (routed) return storedGroup(groups, routed.group);
	if (open.length === 1) return storedGroup(groups, open[0] as number);
	// Queues of customers chosen for lately are counted by `recent` instead: their work may not
	// be committed yet, and once it is, it must not count twice.
	const rows = await rawQuery<{ group_id: number | string; queued: number | string }>(
		tx,
		`select h.group_id, count(*) as queued from outbox_heads h
		join customers c on c.id = h.customer_id
		where h.target = 'group' and c.created_at < now() - make_interval(secs => $1::int)
		group by h.group_id`,
		[RECENT_MS / 1000],
	);
	const queued = new Map(rows.map((row) => [Number(row.group_id), Number(row.queued)]));
	const now = Date.now();
	const load = (id: number) =>
		(queued.get(storedGroup(groups, id) ?? 0) ?? 0) + recentLoad(id, now);
	const least = Math.min(...open.map(load));
	const tied = open.filter((id) => load(id) === least);
	turn = (turn + 1) % 1_000_000;
	const chosen = tied[turn % tied.length] as number;
	recent.push({ group: chosen, at: now });
	return storedGroup(groups, chosen);
}

/**
 * The default group is written as null (customers) and 0 (queue heads): rows that name it by id,
 * stored while another group came first in SUPPORT_GROUP_ID, are rewritten so, or the claim of
 * the default group (key 0) would never see their work. Run when a bot starts.
 */
export async function adoptDefaultGroup(database: Database, defaultGroupId: number) {
	await database.query(
		sql`update customers set group_id = null where group_id = ${defaultGroupId}::bigint`,
	);
	await database.query(
		sql`update outbox_heads set group_id = 0 where group_id = ${defaultGroupId}::bigint`,
	);
}
