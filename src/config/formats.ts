/**
 * What each kind of config value must look like, as formats registered with TypeBox (so that
 * `Value.Errors` reports a bad value), and the functions that decode such values.
 */
import { isIP } from "node:net";
import { FormatRegistry } from "@sinclair/typebox";

export const quote = (text: unknown): string => JSON.stringify(text);

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Milliseconds of a duration such as "500ms", "90s", "10m", "2h" or "7d", or what is wrong with
 * it. A year at most: a typo ("7000000d") would be a date neither Date nor PostgreSQL can hold.
 */
export function measure(text: string): number | string {
	const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(text) ?? [];
	const ms = Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
	if (Number.isNaN(ms))
		return `must be a duration: a whole number and a unit (ms, s, m, h or d), e.g. "90s", "10m", "2h", "7d" (got ${quote(text)})`;
	if (ms === 0) return `must be longer than zero (got ${quote(text)})`;
	return ms > 365 * UNIT_MS.d ? `must be at most 365d (got ${quote(text)})` : ms;
}

/** @example parseDuration("90s") // 90000; otherwise a RangeError says what is accepted */
export function parseDuration(text: string): number {
	const ms = measure(text);
	if (typeof ms === "string") throw new RangeError(`duration ${ms}`);
	return ms;
}

/** An IANA time zone in its canonical spelling ("utc" is "UTC"); throws on an unknown zone. */
export const canonicalZone = (zone: string) =>
	new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;

const entries = (text: string) =>
	text
		.split(",")
		.map((entry) => entry.trim())
		.filter(Boolean);

/** An ALLOWED_ORIGINS entry's hostname, by hand: URL would turn an IDN into punycode. */
const originHost = (entry: string) =>
	entry
		.toLowerCase()
		.replace(/^[a-z][a-z0-9+.-]*:\/\//, "") // scheme
		.replace(/[/?#].*$/, "") // path, query, fragment
		.replace(/^.*@/, "") // credentials
		.replace(/:\d*$/, "") // port
		.replace(/^\*\./, "") // "*.example.com": subdomains are allowed anyway
		.replace(/\.$/, ""); // fully qualified form

// Letters of any script, so a Cyrillic domain is accepted as written; punycode is plain ASCII.
const HOSTNAME = /^[\p{L}\p{N}\p{M}_-]+(\.[\p{L}\p{N}\p{M}_-]+)*$/u;

/** @example originHosts("Example.com, https://shop.example.org/cart,") // ["example.com", "shop.example.org"] */
export const originHosts = (text: string) => [...new Set(entries(text).map(originHost))];
export const notDomains = (text: string) =>
	entries(text).filter((entry) => !HOSTNAME.test(originHost(entry)));

/** Entries a production desk refuses: not https, or a single-label host (`localhost`, `com`). */
export const notForProduction = (text: string) =>
	entries(text).filter((entry) => {
		const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(entry)?.[1]?.toLowerCase();
		return (scheme !== undefined && scheme !== "https") || !originHost(entry).includes(".");
	});

const TRUE_WORDS = ["true", "1", "yes"];
const WORDS = [...TRUE_WORDS, "false", "0", "no"];
export const isTrue = (word: string) => TRUE_WORDS.includes(word);

/** TRUST_PROXY (lower-cased): off, one proxy, 2 to 16 hops, or the proxies' addresses and ranges. */
export function trustedProxies(text: string): boolean | number | string[] | undefined {
	if (WORDS.includes(text)) return isTrue(text);
	if (/^\d+$/.test(text)) return +text >= 2 && +text <= 16 ? +text : undefined;
	const ranges = entries(text);
	const valid = ranges.every((range) => {
		const [address = "", bits] = range.split("/");
		const width = isIP(address) === 4 ? 32 : 128;
		return isIP(address) !== 0 && (bits === undefined || (/^\d+$/.test(bits) && +bits <= width));
	});
	return ranges.length > 0 && valid ? ranges : undefined;
}

const httpUrl = (text: string) => {
	const url = URL.parse(text);
	return url?.protocol === "http:" || url?.protocol === "https:" ? url : undefined;
};

const zoneKnown = (zone: string) => {
	try {
		return !!canonicalZone(zone);
	} catch {
		return false;
	}
};

/** `SUPPORT_GROUP_ID`'s ids in the order written, each once: the first is the default group. */
export const supergroups = (text: string): number[] => [...new Set(entries(text).map(Number))];

/** Formats the config schemas name, in TypeBox's registry so that `Value.Errors` checks them. */
const FORMATS = {
	duration: (text) => typeof measure(text) === "number",
	"time-zone": zoneKnown,
	port: (text) => /^\d{1,5}$/.test(text) && +text <= 65_535,
	// Forums exist only in supergroups, whose Bot API ids are "-100" followed by the channel id.
	supergroups: (text) =>
		entries(text).length > 0 &&
		entries(text).every((id) => /^-100\d+$/.test(id) && Number.isSafeInteger(+id)),
	"http-url": (text) => httpUrl(text) !== undefined,
	// A base has paths appended to it: a query or fragment cannot stay.
	"base-url": (text) => httpUrl(text)?.search === "" && !httpUrl(text)?.hash,
	// Only the scheme: postgres.js takes forms URL refuses (a socket directory in `?host=`).
	"postgres-url": (text) => /^postgres(ql)?:\/\/\S+$/.test(text),
	"bot-token": (text) => /^\d+:[A-Za-z0-9_-]+$/.test(text),
	// Telegram's alphabet for a secret token; fewer than 32 characters could be guessed.
	"webhook-secret": (text) => /^[A-Za-z0-9_-]{32,256}$/.test(text),
	origins: (text) => notDomains(text).length === 0,
	"trust-proxy": (text) => trustedProxies(text) !== undefined,
	boolean: (text) => WORDS.includes(text),
} satisfies Record<string, (text: string) => boolean>;
// The prefix keeps clear of the formats Elysia registers in the same registry.
for (const [name, check] of Object.entries(FORMATS)) FormatRegistry.Set(`config.${name}`, check);
export const format = (name: keyof typeof FORMATS) => `config.${name}`;
