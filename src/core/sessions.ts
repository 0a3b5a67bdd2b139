/**
 * Web sessions: the server issues every id (UUID v4) and never adopts one it did not issue.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers, messages, type TicketStatus, webSessions } from "../db/schema.ts";
import { type CoreDeps, commit } from "./unit-of-work.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SessionRef {
	sessionId: string;
	customerId: string;
}

/** Looks a session up; malformed or unknown ids are simply not found. */
export async function findSession(
	database: Database,
	sessionId: string | undefined | null,
): Promise<SessionRef | null> {
	if (!sessionId || !UUID.test(sessionId)) return null;
	const [row] = await database.db
		.select({ customerId: webSessions.customerId })
		.from(webSessions)
		.where(eq(webSessions.id, sessionId.toLowerCase()))
		.limit(1);
	return row ? { sessionId: sessionId.toLowerCase(), customerId: row.customerId } : null;
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
			.where(and(eq(messages.customerId, existing.customerId), gt(messages.seq, 0)))
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
			.values({ displayName: `Web ${sessionId.slice(0, 8)}`, sourceUrl: pageUrl ?? null })
			.returning({ id: customers.id, status: customers.status });
		if (!customer) throw new Error("customer insert returned nothing");
		await tx.insert(webSessions).values({ id: sessionId, customerId: customer.id });
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
