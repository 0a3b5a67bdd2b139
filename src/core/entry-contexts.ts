/**
 * Entry links from a website: the page a visitor came from, kept for an hour under a
 * short id that travels as the bot's /start payload.
 */
import { and, eq, gt, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { customers, entryContexts } from "../db/schema.ts";
import type { Work } from "./unit-of-work.ts";

export const ENTRY_CONTEXT_TTL_MS = 60 * 60_000;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 16 characters of base62 (≈95 bits): unguessable, and fits Telegram's 64-char start payload. */
export function newContextId(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return `c${Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("")}`;
}

export async function saveEntryContext(
	database: Database,
	context: { pageUrl: string | null; city: string | null; ip: string | null },
): Promise<string> {
	const id = newContextId();
	await database.db.delete(entryContexts).where(lt(entryContexts.expiresAt, sql`now()`));
	await database.db.insert(entryContexts).values({
		id,
		...context,
		expiresAt: new Date(Date.now() + ENTRY_CONTEXT_TTL_MS),
	});
	return id;
}

/**
 * `/start <context id>`: the page (and city) the visitor came from become the ticket's source,
 * unless the ticket already has one. Unknown or expired ids change nothing.
 */
export async function applyEntryContext(
	work: Work,
	customerId: string,
	contextId: string,
): Promise<boolean> {
	const [context] = await work.tx
		.select()
		.from(entryContexts)
		.where(and(eq(entryContexts.id, contextId), gt(entryContexts.expiresAt, sql`now()`)))
		.limit(1);
	if (!context) return false;
	const [customer] = await work.tx
		.select({ sourceUrl: customers.sourceUrl, city: customers.city })
		.from(customers)
		.where(eq(customers.id, customerId));
	await work.tx
		.update(customers)
		.set({
			sourceUrl: customer?.sourceUrl ?? context.pageUrl,
			city: customer?.city ?? context.city,
		})
		.where(eq(customers.id, customerId));
	await work.enqueue(customerId, { kind: "card" });
	return true;
}

export const ENTRY_CONTEXT_ID = /^c[A-Za-z0-9]{16}$/;
