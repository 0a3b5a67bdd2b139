/**
 * Parsers for single environment variable values. Each takes the trimmed, non-empty text and
 * returns the value or a phrase saying what is wrong; config.ts puts the variable name in front.
 * Secrets are never echoed back in a message, since error lines end up in logs.
 */
import { isIP } from "node:net";
import type { TLiteral, TUnion } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
export type Parser<T> = (text: string) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });
const quote = (text: string): string => JSON.stringify(text);

/** An integer within [min, max], written in plain decimal digits. */
export function integerFrom(min: number, max: number): Parser<number> {
	return (text) => {
		const value = Number(text);
		if (!/^-?\d+$/.test(text) || value < min || value > max) {
			return fail(`must be an integer from ${min} to ${max} (got ${quote(text)})`);
		}
		return ok(value);
	};
}

/**
 * The id of a supergroup. Forums exist only in supergroups, whose Bot API ids are "-100"
 * followed by the channel id; anything else is a basic group or a user and cannot work.
 */
export const supergroupId: Parser<number> = (text) => {
	const value = Number(text);
	if (!/^-100\d+$/.test(text) || !Number.isSafeInteger(value)) {
		return fail(
			`must be the id of a forum supergroup: a negative integer starting with -100, e.g. -1001234567890 (got ${quote(text)})`,
		);
	}
	return ok(value);
};

/**
 * One of the literals of a TypeBox union, case-insensitively, so the schema that types the
 * config is also the list of accepted values ("INFO" is read as "info").
 */
export function oneOf<T extends TLiteral<string>[]>(schema: TUnion<T>): Parser<T[number]["const"]> {
	const allowed = schema.anyOf.map((literal) => literal.const);
	return (text) => {
		const value = text.toLowerCase();
		if (!Value.Check(schema, value)) {
			return fail(`must be one of ${allowed.join(", ")} (got ${quote(text)})`);
		}
		return ok(value);
	};
}

const TRUE_WORDS = ["true", "1", "yes"];
const FALSE_WORDS = ["false", "0", "no"];

/** true/false, 1/0 or yes/no, case-insensitively. */
export const boolean: Parser<boolean> = (text) => {
	const word = text.toLowerCase();
	if (TRUE_WORDS.includes(word)) return ok(true);
	if (FALSE_WORDS.includes(word)) return ok(false);
	return fail(`must be true, false, 1, 0, yes or no (got ${quote(text)})`);
};

/** Any text; for names and paths whose only requirement is being set. */
export const text: Parser<string> = (value) => ok(value);

/**
 * An http(s) URL used as a base that paths are appended to: no query or fragment, and the
 * trailing slash is dropped so `${base}/path` never has a double slash.
 */
export const baseUrl: Parser<string> = (text) => {
	const url = URL.parse(text);
	if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
		return fail(`must be an http:// or https:// URL (got ${quote(text)})`);
	}
	if (url.search !== "" || url.hash !== "") {
		return fail(`must not have a query or fragment, paths are appended to it (got ${quote(text)})`);
	}
	return ok(text.replace(/\/+$/, ""));
};

/** A complete http(s) URL, kept as written (e.g. the webhook address handed to Telegram). */
export const httpUrl: Parser<string> = (text) => {
	const url = URL.parse(text);
	if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
		return fail(`must be an http:// or https:// URL (got ${quote(text)})`);
	}
	return ok(text);
};

/**
 * A PostgreSQL connection URL. Only the scheme is checked: postgres.js accepts forms the WHATWG
 * URL parser rejects (a socket directory in `?host=`), and the value may hold a password, so it is
 * not echoed.
 */
export const postgresUrl: Parser<string> = (text) =>
	/^postgres(ql)?:\/\/\S+$/.test(text)
		? ok(text)
		: fail("must be a postgres:// or postgresql:// URL (value not shown, it may hold a password)");

/** A Bot API token as BotFather issues it: the bot id, a colon, the key. */
export const botToken: Parser<string> = (text) =>
	/^\d+:[A-Za-z0-9_-]+$/.test(text)
		? ok(text)
		: fail(
				'must look like "123456789:AAH…": the bot id, a colon and the key, as BotFather gives it (value not shown)',
			);

/**
 * Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret token; fewer
 * than 32 could be guessed by anyone who can reach the webhook, so those are refused.
 */
export const webhookSecret: Parser<string> = (text) =>
	/^[A-Za-z0-9_-]{32,256}$/.test(text)
		? ok(text)
		: fail(
				`must be 32 to 256 characters of A-Z, a-z, 0-9, _ and - (got ${text.length} characters, value not shown)`,
			);

/** A secret of at least `min` characters; signatures with a short key are guessable. */
export function secret(min: number): Parser<string> {
	return (text) =>
		text.length >= min
			? ok(text)
			: fail(`must be at least ${min} characters long (got ${text.length}, value not shown)`);
}

/** An IANA time zone known to this runtime, in its canonical spelling ("utc" becomes "UTC"). */
export const timeZone: Parser<string> = (text) => {
	try {
		return ok(new Intl.DateTimeFormat("en", { timeZone: text }).resolvedOptions().timeZone);
	} catch {
		return fail(`must be an IANA time zone such as "UTC" or "Europe/Moscow" (got ${quote(text)})`);
	}
};

// Letters of any script, so a Cyrillic domain is accepted as written; punycode is plain ASCII.
const HOSTNAME = /^[\p{L}\p{N}\p{M}_-]+(\.[\p{L}\p{N}\p{M}_-]+)*$/u;

/**
 * Reduces one ALLOWED_ORIGINS entry to a hostname. Done by hand rather than with URL because URL
 * turns an IDN into punycode, and matching (with both forms) is the CORS code's business.
 */
function originHost(entry: string): string {
	return entry
		.toLowerCase()
		.replace(/^[a-z][a-z0-9+.-]*:\/\//, "") // scheme
		.replace(/[/?#].*$/, "") // path, query, fragment
		.replace(/^.*@/, "") // credentials
		.replace(/:\d*$/, "") // port
		.replace(/^\*\./, "") // "*.example.com": subdomains are allowed anyway
		.replace(/\.$/, ""); // fully qualified form
}

/**
 * Comma-separated site domains, each a bare domain or a URL; gives lower-cased hostnames without
 * duplicates or empty entries.
 *
 * @example allowedOrigins("Example.com, https://shop.example.org/cart,") // ["example.com", "shop.example.org"]
 */
export const allowedOrigins: Parser<string[]> = (text) => {
	const hosts: string[] = [];
	const bad: string[] = [];
	for (const entry of text.split(",")) {
		const trimmed = entry.trim();
		if (trimmed === "") continue;
		const host = originHost(trimmed);
		if (!HOSTNAME.test(host)) bad.push(quote(trimmed));
		else if (!hosts.includes(host)) hosts.push(host);
	}
	if (bad.length > 0) {
		return fail(
			`must be comma-separated domains or URLs, e.g. "example.com, https://shop.example.org" (not a domain: ${bad.join(", ")})`,
		);
	}
	return ok(hosts);
};

/**
 * TRUST_PROXY: off (false/0/no), one proxy (true/1/yes), a number of proxy hops, or a
 * comma-separated list of the proxies' addresses and CIDR ranges (`10.0.0.0/8, ::1`).
 *
 * @example trustProxy("2") // { ok: true, value: 2 }
 */
export const trustProxy: Parser<boolean | number | string[]> = (text) => {
	const word = boolean(text);
	if (word.ok) return word;
	if (/^\d+$/.test(text)) {
		const hops = Number(text);
		return hops >= 2 && hops <= 16
			? ok(hops)
			: fail(`must be a number of proxies from 1 to 16 (got ${quote(text)})`);
	}
	const ranges = text
		.split(",")
		.map((entry) => entry.trim())
		.filter(Boolean);
	const bad = ranges.filter((range) => {
		const [address = "", bits] = range.split("/");
		const family = isIP(address);
		const width = family === 4 ? 32 : 128;
		return family === 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= width));
	});
	if (ranges.length === 0 || bad.length > 0)
		return fail(
			`must be true, false, 1, 0, yes or no, a number of proxies, or the proxies' addresses and CIDR ranges such as "10.0.0.0/8, ::1" (got ${quote(text)})`,
		);
	return ok(ranges.map((range) => range.toLowerCase()));
};

/**
 * ALLOWED_ORIGINS in production: every entry either a bare domain or an https:// URL, and a
 * domain with at least two labels (`intranet`, `localhost` or `com` would allow far too much or
 * nothing real). The value itself is parsed by `allowedOrigins`.
 */
export const productionOrigins: Parser<string[]> = (text) => {
	const bad: string[] = [];
	for (const entry of text.split(",")) {
		const trimmed = entry.trim();
		if (trimmed === "") continue;
		const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
		const host = originHost(trimmed);
		if ((scheme !== undefined && scheme !== "https") || !host.includes("."))
			bad.push(quote(trimmed));
	}
	return bad.length === 0
		? ok([])
		: fail(
				`in production must be https sites with a full domain name, e.g. "shop.example.com" or "https://example.org" (refused: ${bad.join(", ")})`,
			);
};
