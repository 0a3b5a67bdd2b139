/**
 * The key a client's per-IP limits and quotas count under, from an address already
 * normalized by the door that received it (`web/client-ip.ts`). Pure address arithmetic, shared
 * by the rate limiter, the quotas and the web door's range checks.
 */
import { isIP } from "node:net";

/** An IPv4 address as one number. */
export function ipv4Number(address: string): number {
	return address.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** An IPv6 address as its eight groups of 16 bits. */
export function ipv6Groups(address: string): number[] {
	const [head = "", tail] = address.split("::");
	const part = (text: string) => (text ? text.split(":") : []);
	let left = part(head);
	let right = tail === undefined ? [] : part(tail);
	// An embedded IPv4 tail (::ffff:1.2.3.4 forms that normalizeIp did not map) is two groups.
	const last = right.at(-1) ?? left.at(-1);
	if (last?.includes(".")) {
		const v4 = ipv4Number(last);
		const groups = [Math.floor(v4 / 65536).toString(16), (v4 % 65536).toString(16)];
		if (right.length) right = [...right.slice(0, -1), ...groups];
		else left = [...left.slice(0, -1), ...groups];
	}
	const missing = 8 - left.length - right.length;
	return [...left, ...Array(Math.max(0, missing)).fill("0"), ...right].map((g) =>
		Number.parseInt(g, 16),
	);
}

/**
 * The key a client's rate limits and quotas are counted under: an IPv4 address as it is, an IPv6
 * address by its /64 (one subscriber usually holds a whole /64 and can pick any address in it).
 *
 * @example clientKey("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 */
export function clientKey(ip: string): string {
	if (isIP(ip) !== 6) return ip;
	return `${ipv6Groups(ip)
		.slice(0, 4)
		.map((g) => g.toString(16))
		.join(":")}::/64`;
}

/**
 * The network a client's address belongs to, for caps shared by neighbours: an IPv4 address by
 * its /24, an IPv6 address by its /64 (as `clientKey`).
 *
 * @example networkKey("203.0.113.7") // "203.0.113.0/24"
 */
export function networkKey(ip: string): string {
	if (isIP(ip) !== 4) return clientKey(ip);
	return `${ip.split(".").slice(0, 3).join(".")}.0/24`;
}
