/**
 * Signed visitor identity. A site whose visitors are logged in computes, on its own server,
 * `hash = hex(HMAC-SHA256(IDENTITY_SECRET, userId))` and hands `{userId, hash, name?, email?,
 * fields?}` to the widget, which sends it with `init`. A valid hash makes the session's customer
 * that user: every browser and device of one `userId` shares one customer (history, topic,
 * sockets). The hash covers `userId` only, as Intercom and Chatwoot do it, so a site can sign once
 * per user; name, email and fields are what that site says about its own user.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { customers, messages, type VerifiedIdentity, webSessions } from "../db/schema.ts";
import { AppError } from "./errors.ts";
import { mergeCustomers, olderTopicFirst } from "./merge.ts";
import type { SessionRef, SessionStart } from "./sessions.ts";
import { recordEvent } from "./status.ts";
import { chooseGroup } from "./support-groups.ts";
import { type CoreDeps, commit, type Work } from "./unit-of-work.ts";

/** What the widget sends as `identity` in `init` (lengths are checked by the route's schema). */
export interface IdentityClaim extends VerifiedIdentity {
	userId: string;
	hash: string;
}

const invalid = () =>
	new AppError("IDENTITY_INVALID", "The visitor's identity could not be verified.", 403);

/**
 * The claim when its hash is the HMAC of its `userId` under `secret`, compared in constant time;
 * 403 `IDENTITY_INVALID` otherwise, and always when the desk has no secret (a site cannot vouch
 * for anyone then).
 */
export function verifyIdentity(secret: string | undefined, claim: IdentityClaim): IdentityClaim {
	if (!secret || !/^[0-9a-f]{64}$/i.test(claim.hash)) throw invalid();
	const expected = createHmac("sha256", secret).update(claim.userId).digest();
	if (!timingSafeEqual(expected, Buffer.from(claim.hash, "hex"))) throw invalid();
	return claim;
}

/** The signature a site computes for `userId` (also what tests and docs' examples compute). */
export const identityHash = (secret: string, userId: string) =>
	createHmac("sha256", secret).update(userId).digest("hex");

type CustomerRow = typeof customers.$inferSelect;

/**
 * Starts the session of a verified visitor. The presented session is kept when its customer is
 * this user, or is anonymous (that customer becomes the user, joining the user's existing
 * customer from another device if there is one); a session of another verified user is never
 * handed over: the user gets a session of their own. Identity resolutions of one user run one
 * at a time (a transaction lock on the user id), so two devices' first `init`s make one customer.
 */
export async function startVerifiedSession(
	deps: CoreDeps,
	presented: SessionRef | null,
	claim: IdentityClaim,
	start: { pageUrl?: string; clientKey?: string },
): Promise<SessionStart> {
	return commit(deps, async (work) => {
		await work.tx.execute(
			sql`select pg_advisory_xact_lock(hashtextextended(${`identity:${claim.userId}`}, 0))`,
		);
		let user = await customerWhere(work, eq(customers.externalUserId, claim.userId));
		const current = presented
			? await customerWhere(work, eq(customers.id, presented.customerId))
			: undefined;
		let keepSession = false;
		if (current && current.externalUserId === claim.userId) keepSession = true;
		else if (current && current.externalUserId == null) {
			keepSession = true;
			user = user ? await join(work, current, user) : current;
		}
		if (!user) user = await createCustomer(work, claim, start.pageUrl);
		await vouch(work, user, claim);
		const sessionId = keepSession && presented ? presented.sessionId : crypto.randomUUID();
		if (!keepSession)
			await work.tx
				.insert(webSessions)
				.values({ id: sessionId, customerId: user.id, clientKey: start.clientKey ?? null });
		const [any] = await work.tx
			.select({ id: messages.id })
			.from(messages)
			.where(eq(messages.customerId, user.id))
			.limit(1);
		return {
			sessionId,
			customerId: user.id,
			isNewSession: !keepSession,
			hasHistory: any !== undefined,
			telegramLinked: user.telegramUserId != null,
			status: user.status,
		};
	});
}

async function customerWhere(work: Work, where: ReturnType<typeof eq>) {
	const [row] = await work.tx.select().from(customers).where(where).for("update");
	return row;
}

/**
 * An anonymous customer (this browser's history) and the user's customer (another device's)
 * become one, as when a web visitor links their Telegram account: the older topic survives.
 */
async function join(work: Work, anonymous: CustomerRow, user: CustomerRow): Promise<CustomerRow> {
	const [survivor, loser] = olderTopicFirst(anonymous, user);
	await mergeCustomers(work, survivor, loser);
	work.emit(loser.id, { type: "moved", to: survivor.id });
	const merged = await customerWhere(work, eq(customers.id, survivor.id));
	if (!merged) throw new Error("the surviving customer of a merge is gone");
	return merged;
}

async function createCustomer(work: Work, claim: IdentityClaim, pageUrl?: string) {
	const [row] = await work.tx
		.insert(customers)
		.values({
			displayName: claim.name ?? `Web ${claim.userId.slice(0, 8)}`,
			sourceUrl: pageUrl ?? null,
			groupId: await chooseGroup(work.tx, work.groups, { channel: "web", pageUrl }),
		})
		.returning();
	if (!row) throw new Error("customer insert returned nothing");
	return row;
}

/**
 * Marks the customer as the user and keeps what the site says about them; the card (and the
 * topic's name, when the name changed) follow.
 */
async function vouch(work: Work, user: CustomerRow, claim: IdentityClaim) {
	const identity: VerifiedIdentity = {
		...(claim.name ? { name: claim.name } : {}),
		...(claim.email ? { email: claim.email } : {}),
		...(claim.fields && Object.keys(claim.fields).length > 0 ? { fields: claim.fields } : {}),
	};
	// A customer linked to Telegram keeps their Telegram name; the site's details still show.
	const displayName = user.telegramUserId == null && claim.name ? claim.name : user.displayName;
	const first = user.externalUserId == null;
	const changed = JSON.stringify(identity) !== JSON.stringify(user.identity ?? {});
	if (!first && !changed && displayName === user.displayName) return;
	await work.tx
		.update(customers)
		.set({ externalUserId: claim.userId, identity, displayName })
		.where(eq(customers.id, user.id));
	if (first) await recordEvent(work, user.id, "IDENTIFIED", "customer", { userId: claim.userId });
	if (user.topicId == null) return;
	await work.enqueue(user.id, { kind: "card" });
	if (displayName !== user.displayName) await work.enqueue(user.id, { kind: "topic_rename" });
}
