/**
 * Entry links from a website (SPEC §3.9): the page a visitor came from, kept for an hour under a
 * short id that travels as the bot's /start payload.
 */
import { lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { entryContexts } from "../db/schema.ts";

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
