/**
 * Web sessions: the server issues every id (UUID v4) and never adopts one it did not issue.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers, messages, type TicketStatus, webSessions } from "../db/schema.ts";
import { isUuid } from "./ids.ts";
import { chooseGroup } from "./support-groups.ts";
import { type CoreDeps, commit } from "./unit-of-work.ts";

export interface SessionRef {
	sessionId: string;
	customerId: string;
}

/** A session unused this long is expired (`session.idle`): 180 days. */
export const DEFAULT_SESSION_IDLE_MS = 180 * 24 * 3_600_000;
/** `last_seen_at` is written at most this often per session, not on every request. */
const SEEN_EVERY_MS = 3_600_000;

const idleByDatabase = new WeakMap<Database, number>();

/** Sets how long sessions of this database may stay unused (from the config, once per app). */
export function configureSessions(database: Database, options: { idleMs?: number }) {
	if (options.idleMs) idleByDatabase.set(database, options.idleMs);
}

/**
 * Looks a session up; malformed, unknown and expired (idle longer than `session.idle`) ids are
 * simply not found. A session found is marked as seen (at most hourly), so an active one never
 * expires.
 */
export async function findSession(
	database: Database,
	sessionId: string | undefined | null,
): Promise<SessionRef | null> {
	if (!sessionId || !isUuid(sessionId)) return null;
	const idleMs = idleByDatabase.get(database) ?? DEFAULT_SESSION_IDLE_MS;
	const now = Date.now();
	const [row] = await database.db
		.select({ customerId: webSessions.customerId, lastSeenAt: webSessions.lastSeenAt })
		.from(webSessions)
		.where(
			and(
				eq(webSessions.id, sessionId.toLowerCase()),
				gt(webSessions.lastSeenAt, sql`${new Date(now - idleMs).toISOString()}::timestamptz`),
			),
		)
		.limit(1);
	if (!row) return null;
	if (now - new Date(row.lastSeenAt).getTime() > Math.min(SEEN_EVERY_MS, idleMs / 4))
		await database.db
			.update(webSessions)
			.set({ lastSeenAt: sql`now()` })
			.where(eq(webSessions.id, sessionId.toLowerCase()));
	return { sessionId: sessionId.toLowerCase(), customerId: row.customerId };
}

export interface SessionStart extends SessionRef {
	isNewSession: boolean;
	hasHistory: boolean;
	telegramLinked: boolean;
	status: TicketStatus;
}

/**
 * Resumes the presented session when it exists, otherwise creates a new customer with a fresh
 * session. `pageUrl` (already checked by the caller) becomes the ticket's source page.
 */
export async function startWebSession(
	deps: CoreDeps,
	presented: string | undefined | null,
	pageUrl?: string,
	/** The client's network (IP, IPv6 /64) the session starts from: its daily quotas' key. */
	clientKey?: string,
): Promise<SessionStart> {
	const existing = await findSession(deps.database, presented);
	if (existing) {
		const [customer] = await deps.database.db
			.select({ status: customers.status, telegramUserId: customers.telegramUserId })
			.from(customers)
			.where(eq(customers.id, existing.customerId));
		const [any] = await deps.database.db
			.select({ id: messages.id })
			.from(messages)
			.where(and(eq(messages.customerId, existing.customerId), gt(messages.customerSeq, 0)))
			.limit(1);
		await deps.database.db
			.update(webSessions)
			.set({ lastSeenAt: sql`now()` })
			.where(eq(webSessions.id, existing.sessionId));
		return {
			...existing,
			isNewSession: false,
			hasHistory: Boolean(any),
			telegramLinked: customer?.telegramUserId != null,
			status: customer?.status ?? "NEW",
		};
	}
	const sessionId = crypto.randomUUID();
	const created = await commit(deps, async ({ tx }) => {
		const [customer] = await tx
			.insert(customers)
			.values({
				displayName: `Web ${sessionId.slice(0, 8)}`,
				sourceUrl: pageUrl ?? null,
				groupId: await chooseGroup(tx, deps.groups, { channel: "web", pageUrl }),
			})
			.returning({ id: customers.id, status: customers.status });
		if (!customer) throw new Error("customer insert returned nothing");
		await tx
			.insert(webSessions)
			.values({ id: sessionId, customerId: customer.id, clientKey: clientKey ?? null });
		return customer;
	});
	return {
		sessionId,
		customerId: created.id,
		isNewSession: true,
		hasHistory: false,
		telegramLinked: false,
		status: created.status,
	};
}
