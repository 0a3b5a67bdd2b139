/**
 * Which browser origins may use the API and the WebSocket (`ALLOWED_ORIGINS`).
 * Pure functions of the config, shared by the CORS plugin and the socket's upgrade check.
 *
 * Hostnames are compared in their ASCII (punycode) form, lower-cased, so `пример.рф` in the config
 * and the `xn--e1afmkfd.xn--p1ai` a browser sends are the same site. Matching is by whole labels:
 * `example.com` allows `example.com` and `shop.example.com`, never `evilexample.com`,
 * `example.com.evil.net` or the parent `com`.
 */
import type { Config } from "../config/index.ts";

export type OriginConfig = Pick<Config, "allowedOrigins" | "publicUrl" | "nodeEnv">;

export interface OriginPolicy {
	/** Whether a request carrying this `Origin` header may be served. */
	allows(origin: string): boolean;
}

/** Hosts a developer's machine uses; allowed on any port outside production. */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

// An Origin header is exactly scheme://host[:port]: no path, query, fragment or credentials.
const ORIGIN_SHAPE = /^https?:\/\/[^/?#@\s\\]+$/i;

/**
 * A hostname in the form browsers send: ASCII (punycode for IDN), lower-case, no trailing dot.
 * Undefined when it is not a hostname at all.
 *
 * @example asciiHost("Пример.РФ") // "xn--e1afmkfd.xn--p1ai"
 */
export function asciiHost(host: string): string | undefined {
	if (host === "" || /[/?#@:\s\\]/.test(host)) return undefined;
	const url = URL.parse(`http://${host}`);
	if (!url) return undefined;
	return url.hostname.replace(/\.$/, "") || undefined;
}

/**
 * Splits an `Origin` header into its scheme and ASCII hostname, or undefined when it is not an
 * http(s) origin (`null`, `file://`, a URL with a path, garbage).
 */
export function parseOrigin(
	origin: string,
): { origin: string; protocol: string; hostname: string } | undefined {
	if (!ORIGIN_SHAPE.test(origin)) return undefined;
	const url = URL.parse(origin);
	if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) return undefined;
	const hostname = url.hostname.replace(/\.$/, "");
	if (hostname === "") return undefined;
	return { origin: url.origin, protocol: url.protocol, hostname };
}

/** Whether `hostname` is `domain` itself or one of its subdomains (whole labels only). */
export function isSameOrSubdomain(hostname: string, domain: string): boolean {
	return hostname === domain || hostname.endsWith(`.${domain}`);
}

/**
 * Builds the origin policy from the config: the configured domains and their subdomains, the
 * service's own origin (PUBLIC_URL), and localhost outside production.
 *
 * @example
 * const policy = originPolicy({ allowedOrigins: ["example.com"], publicUrl: "https://desk.example.org", nodeEnv: "production" });
 * policy.allows("https://shop.example.com"); // true
 * policy.allows("https://evilexample.com"); // false
 */
export function originPolicy(config: OriginConfig): OriginPolicy {
	const domains = config.allowedOrigins
		.map((entry) => asciiHost(entry))
		.filter((host): host is string => host !== undefined);
	const own = URL.parse(config.publicUrl)?.origin;
	const allowLocal = config.nodeEnv !== "production";
	return {
		allows(header) {
			const parsed = parseOrigin(header);
			if (!parsed) return false;
			if (parsed.origin === own) return true;
			if (allowLocal && LOCAL_HOSTS.has(parsed.hostname)) return true;
			// In production a site embedding the widget is served over https; plain http is refused.
			if (!allowLocal && parsed.protocol !== "https:") return false;
			return domains.some((domain) => isSameOrSubdomain(parsed.hostname, domain));
		},
	};
}
