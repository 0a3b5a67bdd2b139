/**
 * Web → Telegram link tokens: single use, 128 random bits, only their hash stored.
 * Opening a link only asks (`offerLink`); the Telegram side's "Link" press links (`confirmLink`),
 * "Cancel" (`cancelLink`) or expiry burns the token.
 */
import { and, eq, ne, sql } from "drizzle-orm";
import { customers, linkTokens, messages } from "../db/schema.ts";
import type { Locale } from "../i18n/texts.ts";
import { mergeCustomers, olderTopicFirst } from "./merge.ts";
import { recordEvent } from "./status.ts";
import { localeOf, type TelegramPerson, telegramDisplayName } from "./telegram-customers.ts";
import { type CoreDeps, commit, type Work } from "./unit-of-work.ts";

export const LINK_TOKEN = /^link_[0-9a-f]{32}$/;

export function hashToken(token: string): string {
	return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}

/**
 * Issues a token for the customer, valid for `ttlMs`.
 * @example const { token } = await createLinkToken(deps, customerId, 3_600_000) // "link_3f…"
 */
export async function createLinkToken(deps: CoreDeps, customerId: string, ttlMs: number) {
	const token = `link_${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex")}`;
	const expiresAt = new Date(Date.now() + ttlMs);
	await commit(deps, async ({ tx }) => {
		await tx.insert(linkTokens).values({ tokenHash: hashToken(token), customerId, expiresAt });
	});
	return { token, expiresAt };
}

/** Why a link cannot go ahead; each has its own DM answer. */
export type LinkRefusal = "invalid" | "used" | "expired" | "already";

/** What the Telegram side is asked to confirm: the web conversation, in a few facts. */
export interface LinkOffer {
	sourceUrl: string | null;
	startedAt: Date;
	messageCount: number;
}

type TokenRow = typeof linkTokens.$inferSelect;

/** The token's row, locked for this transaction, or why it cannot be used. */
async function usableToken(
	work: Work,
	token: string,
	telegramUserId: number,
): Promise<{ row: TokenRow } | { refusal: LinkRefusal }> {
	if (!LINK_TOKEN.test(token)) return { refusal: "invalid" };
	const [row] = await work.tx
		.select()
		.from(linkTokens)
		.where(eq(linkTokens.tokenHash, hashToken(token)))
		.for("update");
	if (!row) return { refusal: "invalid" };
	// A token offered to one Telegram account is spent for every other: whoever opens a link
	// first is the only one who may confirm it.
	if (row.usedAt || (row.offeredTo != null && row.offeredTo !== telegramUserId))
		return { refusal: "used" };
	if (row.expiresAt.getTime() <= Date.now()) {
		await burn(work, row.tokenHash);
		return { refusal: "expired" };
	}
	return { row };
}

function burn(work: Work, tokenHash: string) {
	return work.tx
		.update(linkTokens)
		.set({ usedAt: new Date() })
		.where(eq(linkTokens.tokenHash, tokenHash));
}

/**
 * `/start link_<token>`: nothing is linked yet. A valid token is reserved for this
 * Telegram account and the facts of the web conversation are returned for the confirmation the
 * bot sends with "Link" and "Cancel". Writes no customer row, whatever the outcome.
 */
export async function offerLink(
	work: Work,
	token: string,
	telegramUserId: number,
): Promise<{ offer: LinkOffer } | { refusal: LinkRefusal }> {
	const found = await usableToken(work, token, telegramUserId);
	if ("refusal" in found) return found;
	const [webCustomer] = await work.tx
		.select({
			id: customers.id,
			telegramUserId: customers.telegramUserId,
			sourceUrl: customers.sourceUrl,
			createdAt: customers.createdAt,
		})
		.from(customers)
		.where(eq(customers.id, found.row.customerId));
	if (!webCustomer) return { refusal: "invalid" };
	if (webCustomer.telegramUserId === telegramUserId) return { refusal: "already" };
	const [counted] = await work.tx
		.select({ n: sql<number>`count(*)::int` })
		.from(messages)
		.where(and(eq(messages.customerId, webCustomer.id), ne(messages.author, "system")));
	await work.tx
		.update(linkTokens)
		.set({ offeredTo: telegramUserId })
		.where(eq(linkTokens.tokenHash, found.row.tokenHash));
	return {
		offer: {
			sourceUrl: webCustomer.sourceUrl,
			startedAt: webCustomer.createdAt,
			messageCount: Number(counted?.n ?? 0),
		},
	};
}

/** "Cancel" on the confirmation: the token is burnt and nothing else changes. */
export async function cancelLink(work: Work, token: string, telegramUserId: number) {
	const found = await usableToken(work, token, telegramUserId);
	if ("refusal" in found) return found;
	await burn(work, found.row.tokenHash);
	return { cancelled: true as const };
}

export type LinkOutcome = "linked" | "merged";

/**
 * "Link" pressed on the confirmation, by the account the token was offered to while
 * it is valid: ties the Telegram account to the web customer who asked for the token. When the
 * account already belongs to another customer the two become one (`merge.ts`). Refusals change
 * nothing but an expired token, which is burnt.
 */
export async function confirmLink(
	work: Work,
	token: string,
	person: TelegramPerson,
	defaultLocale: Locale,
): Promise<{ outcome: LinkOutcome; customerId: string } | { refusal: LinkRefusal }> {
	const found = await usableToken(work, token, person.id);
	if ("refusal" in found) return found;
	const row = found.row;
	// Only a token that was offered to this account by its own /start can be confirmed.
	if (row.offeredTo !== person.id) return { refusal: "invalid" };
	await burn(work, row.tokenHash);
	const [owner] = await work.tx
		.select()
		.from(customers)
		.where(eq(customers.telegramUserId, person.id))
		.for("update");
	if (owner?.id === row.customerId) return { refusal: "already" };
	const [webCustomer] = await work.tx
		.select()
		.from(customers)
		.where(eq(customers.id, row.customerId))
		.for("update");
	if (!webCustomer) return { refusal: "invalid" };
	let survivorId = webCustomer.id;
	let outcome: LinkOutcome = "linked";
	if (owner) {
		const [survivor, loser] = olderTopicFirst(webCustomer, owner);
		await mergeCustomers(work, survivor, loser);
		// The merged-away customer's open tabs hear about the link, then move to the survivor.
		work.emit(loser.id, { type: "channel_linked", telegram: linkedName(person) });
		work.emit(loser.id, { type: "moved", to: survivor.id });
		survivorId = survivor.id;
		outcome = "merged";
	}
	await work.tx
		.update(customers)
		.set({
			telegramUserId: person.id,
			telegramFirstName: person.firstName,
			telegramLastName: person.lastName ?? null,
			telegramUsername: person.username ?? null,
			displayName: telegramDisplayName(person),
			locale: localeOf(person.languageCode, defaultLocale),
		})
		.where(eq(customers.id, survivorId));
	await recordEvent(work, survivorId, "LINKED", "customer", {
		telegramUserId: person.id,
		merged: outcome === "merged",
	});
	work.emit(survivorId, { type: "channel_linked", telegram: linkedName(person) });
	const who = person.username ? `@${person.username}` : telegramDisplayName(person);
	await work.enqueue(survivorId, { kind: "topic_notice", text: "noticeLinked", vars: { who } });
	await work.enqueue(survivorId, { kind: "topic_rename" });
	await work.enqueue(survivorId, { kind: "card" });
	await work.enqueue(survivorId, { kind: "dm_text", text: "dmLinkWelcome" });
	await work.enqueue(survivorId, { kind: "dm_digest" });
	return { outcome, customerId: survivorId };
}

/**
 * The Telegram name the widget shows after linking (`channel_linked.telegram`): the username
 * without `@`, else the first name. A string, as the existing widget expects.
 */
export function linkedName(person: TelegramPerson): string {
	return person.username || person.firstName;
}
