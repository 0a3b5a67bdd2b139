/**
 * Signed, expiring media URLs: `/api/media/<id>?exp=<unix s>&sig=<hmac>`. The HMAC
 * (SHA-256, APP_SECRET) covers the id and the expiry, so a URL cannot be reused for another file or
 * extended; without the URL nobody reads a file, whatever ids they guess.
 */
import { timingSafeEqual } from "node:crypto";

export interface MediaSigner {
	/** An absolute URL for the file, valid for the configured time. */
	url(mediaId: string): string;
	/** True when the signature is ours and not expired. */
	verify(mediaId: string, exp: string | undefined, sig: string | undefined): boolean;
}

export function createMediaSigner(options: {
	secret: string;
	/** The service's public base URL (a function: with PORT=0 it is known only after listening). */
	publicUrl: () => string;
	ttlMs: number;
	now?: () => number;
}): MediaSigner {
	const now = options.now ?? Date.now;
	const sign = (mediaId: string, exp: number) =>
		new Bun.CryptoHasher("sha256", options.secret)
			.update(`media:${mediaId}:${exp}`)
			.digest("base64url");
	return {
		url(mediaId) {
			// Expiry rounded up to the hour: the same file keeps one URL for a while, so caches work.
			const hour = 3600;
			const exp = Math.ceil((now() + options.ttlMs) / 1000 / hour) * hour;
			return `${options.publicUrl()}/api/media/${mediaId}?exp=${exp}&sig=${sign(mediaId, exp)}`;
		},
		verify(mediaId, exp, sig) {
			if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return false;
			if (Number(exp) * 1000 < now()) return false;
			const expected = Buffer.from(sign(mediaId, Number(exp)));
			const given = Buffer.from(sig);
			return expected.length === given.length && timingSafeEqual(expected, given);
		},
	};
}
