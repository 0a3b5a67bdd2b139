/**
 * The client's IP address, the key of the per-IP rate limits and quotas.
 *
 * Without TRUST_PROXY it is the socket's peer, and `X-Forwarded-For` is ignored: anyone can send
 * that header. With TRUST_PROXY the operator says which hops are theirs, and only those are
 * believed — never "any private address", since a visitor can write private addresses into the
 * header too:
 * - `true` or a count `n`: the peer and the `n - 1` rightmost `X-Forwarded-For` entries are our
 *   proxies; the client is the entry just left of them (for one proxy, the rightmost entry).
 * - a list of addresses or CIDR ranges: hops are read from the right while they are in the list
 *   (the peer first: a peer outside it is the client itself); the first one outside is the client.
 * When the header is missing, short or unreadable at the spot that matters, the last hop that
 * could be read (at worst the socket's peer) is used.
 */
import { isIP } from "node:net";
import { ipv4Number, ipv6Groups } from "../core/client-key.ts";

/** The part of Bun's server this needs (Elysia's context exposes it as `server`). */
export interface PeerSource {
	requestIP(request: Request): { address: string } | null;
}

/**
 * An address as one canonical string: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4, ports
 * and brackets are dropped. Undefined when the text is not an IP address.
 *
 * @example normalizeIp("[::ffff:10.0.0.1]:443") // "10.0.0.1"
 */
export function normalizeIp(text: string): string | undefined {
	let value = text.trim();
	const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
	if (bracketed?.[1]) value = bracketed[1];
	else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
	value = value.toLowerCase();
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(value);
	if (mapped?.[1]) value = mapped[1];
	return isIP(value) === 0 ? undefined : value;
}

/** TRUST_PROXY resolved: off, a number of proxy hops, or the proxies' addresses and ranges. */
export type TrustProxy = boolean | number | string[];

/** Whether a normalized address is inside `range` (an address or a CIDR block). */
export function inRange(address: string, range: string): boolean {
	const [base = "", bitsText] = range.split("/");
	const family = isIP(address);
	if (family === 0 || family !== isIP(base)) return false;
	const width = family === 4 ? 32 : 128;
	const bits = bitsText === undefined ? width : Number(bitsText);
	if (family === 4) {
		if (bits === 0) return true;
		const size = 2 ** (32 - bits);
		return Math.floor(ipv4Number(address) / size) === Math.floor(ipv4Number(base) / size);
	}
	const a = ipv6Groups(address);
	const b = ipv6Groups(base);
	for (let i = 0, left = bits; left > 0; i++, left -= 16) {
		const take = Math.min(16, left);
		const shift = 16 - take;
		if ((a[i] ?? 0) >> shift !== (b[i] ?? 0) >> shift) return false;
	}
	return true;
}

/**
 * The client IP of a request, as described at the top of this file.
 *
 * @example clientIp(request, server, 1) // "203.0.113.7"
 */
export function clientIp(
	request: Request,
	server: PeerSource | null | undefined,
	trustProxy: TrustProxy,
): string {
	const peerAddress = server?.requestIP(request)?.address;
	const peer = (peerAddress && normalizeIp(peerAddress)) ?? peerAddress ?? "unknown";
	if (trustProxy === false || trustProxy === 0) return peer;
	const header = request.headers.get("x-forwarded-for");
	const hops = header ? header.split(",") : [];
	if (Array.isArray(trustProxy)) {
		const ours = (address: string) => trustProxy.some((range) => inRange(address, range));
		if (!ours(peer)) return peer;
		let last = peer;
		for (let i = hops.length - 1; i >= 0; i--) {
			const hop = normalizeIp(hops[i] ?? "");
			if (!hop) return last;
			if (!ours(hop)) return hop;
			last = hop;
		}
		return last;
	}
	// A count: the peer is proxy 1, the rightmost entries are the others; the client is next.
	const proxies = trustProxy === true ? 1 : trustProxy;
	let last = peer;
	for (let i = hops.length - 1, seen = 1; i >= 0; i--, seen++) {
		const hop = normalizeIp(hops[i] ?? "");
		if (!hop) return last;
		last = hop;
		if (seen === proxies) return hop;
	}
	return last;
}
