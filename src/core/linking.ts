/**
 * Web → Telegram link tokens (SPEC §3.8): single use, 128 random bits, only their hash stored.
 */
import { eq } from "drizzle-orm";
import {
	customers,
	linkTokens,
	media,
	messages,
	outbox,
	ticketEvents,
	webSessions,
} from "../db/schema.ts";
import type { Locale } from "../i18n/texts.ts";
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

export type LinkOutcome = "linked" | "merged" | "already" | "invalid" | "used" | "expired";

/**
 * `/start link_<token>` (SPEC §3.8): ties the Telegram account to the web customer who asked for
 * the token. When the account already belongs to another customer the two become one: the one
 * with the older topic survives and receives the other's history, sessions and identity.
 * Outcomes other than linked/merged change nothing but the reply the customer gets.
 */
export async function linkTelegram(
	work: Work,
	token: string,
	person: TelegramPerson,
	defaultLocale: Locale,
): Promise<{ outcome: LinkOutcome; customerId?: string }> {
	if (!LINK_TOKEN.test(token)) return { outcome: "invalid" };
	const [row] = await work.tx
		.select()
		.from(linkTokens)
		.where(eq(linkTokens.tokenHash, hashToken(token)))
		.for("update");
	if (!row) return { outcome: "invalid" };
	if (row.usedAt) return { outcome: "used" };
	if (row.expiresAt.getTime() < Date.now()) return { outcome: "expired" };
	await work.tx
		.update(linkTokens)
		.set({ usedAt: new Date() })
		.where(eq(linkTokens.tokenHash, row.tokenHash));
	const [owner] = await work.tx
		.select()
		.from(customers)
		.where(eq(customers.telegramUserId, person.id))
		.for("update");
	if (owner?.id === row.customerId) return { outcome: "already", customerId: owner.id };
	const [webCustomer] = await work.tx
		.select()
		.from(customers)
		.where(eq(customers.id, row.customerId))
		.for("update");
	if (!webCustomer) return { outcome: "invalid" };
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
 * without `@`, else the first name. A string, as the existing widget expects (SPEC §3.8).
 */
export function linkedName(person: TelegramPerson): string {
	return person.username || person.firstName;
}

type CustomerRow = typeof customers.$inferSelect;

/** The customer whose topic is older survives a merge; without topics, the older customer. */
function olderTopicFirst(a: CustomerRow, b: CustomerRow): [CustomerRow, CustomerRow] {
	if (a.topicId != null && b.topicId != null) return a.topicId <= b.topicId ? [a, b] : [b, a];
	if (a.topicId != null) return [a, b];
	if (b.topicId != null) return [b, a];
	return a.createdAt <= b.createdAt ? [a, b] : [b, a];
}

/**
 * Moves everything of `loser` to `survivor` and removes `loser`. Ids of messages and outbox items
 * are global sequences, so the merged history and queue keep their order.
 */
async function mergeCustomers(work: Work, survivor: CustomerRow, loser: CustomerRow) {
	const move = { customerId: survivor.id };
	for (const table of [messages, webSessions, media, ticketEvents, linkTokens, outbox])
		await work.tx.update(table).set(move).where(eq(table.customerId, loser.id));
	if (loser.topicId != null && survivor.topicId != null) {
		await work.enqueue(survivor.id, {
			kind: "topic_notice",
			text: "noticeMergedInto",
			topicId: loser.topicId,
		});
		await work.enqueue(survivor.id, { kind: "topic_notice", text: "noticeMergedFrom" });
	}
	// Free the unique Telegram identity before the survivor takes it over.
	await work.tx.delete(customers).where(eq(customers.id, loser.id));
	const keep: Partial<CustomerRow> = {};
	if (!survivor.phone && loser.phone) keep.phone = loser.phone;
	if (!survivor.sourceUrl && loser.sourceUrl) keep.sourceUrl = loser.sourceUrl;
	if (!survivor.city && loser.city) keep.city = loser.city;
	if (survivor.topicId == null && loser.topicId != null) {
		keep.topicId = loser.topicId;
		keep.cardMessageId = loser.cardMessageId;
	}
	if (Object.keys(keep).length)
		await work.tx.update(customers).set(keep).where(eq(customers.id, survivor.id));
}
