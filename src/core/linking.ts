/**
 * Web → Telegram link tokens (SPEC §3.8): single use, 128 random bits, only their hash stored.
 */
import { linkTokens } from "../db/schema.ts";
import { type CoreDeps, commit } from "./unit-of-work.ts";

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
