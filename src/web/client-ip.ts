/**
 * The client's IP address, the key of the per-IP rate limits (SPEC §1.1 TRUST_PROXY, §4.5).
 *
 * Without TRUST_PROXY it is the socket's peer, and `X-Forwarded-For` is ignored: anyone can send
 * that header. With TRUST_PROXY the peer is a proxy the operator vouches for, and the client is
 * the rightmost hop of `X-Forwarded-For` that is not itself a proxy. Loopback and private
 * addresses count as proxies (the usual nginx/Traefik/Kubernetes hops); entries left of the first
 * public address are whatever the client claimed and are never used. When every hop is private
 * (an intranet deployment) the leftmost one is the client, so colleagues behind one proxy do not
 * share a budget; when the header is missing or unreadable, the socket's peer is used.
 */
import { isIP } from "node:net";

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

function ipv4Number(address: string): number {
	return address.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

// Loopback, RFC 1918 private, RFC 6598 shared (carrier and cluster networks), link-local.
const TRUSTED_V4: [base: string, bits: number][] = [
	["127.0.0.0", 8],
	["10.0.0.0", 8],
	["172.16.0.0", 12],
	["192.168.0.0", 16],
	["100.64.0.0", 10],
	["169.254.0.0", 16],
];

/** Whether a normalized address is loopback or private, i.e. a proxy rather than a client. */
export function isTrustedProxy(address: string): boolean {
	if (isIP(address) === 4) {
		const value = ipv4Number(address);
		return TRUSTED_V4.some(([base, bits]) => {
			const size = 2 ** (32 - bits);
			const start = ipv4Number(base);
			return value >= start && value < start + size;
		});
	}
	if (address === "::1") return true;
	// fc00::/7 unique local, fe80::/10 link-local.
	return /^f[cd][0-9a-f]{2}:/.test(address) || /^fe[89ab][0-9a-f]:/.test(address);
}

/**
 * The client IP of a request, as described at the top of this file.
 *
 * @example clientIp(request, server, config.trustProxy) // "203.0.113.7"
 */
export function clientIp(
	request: Request,
	server: PeerSource | null | undefined,
	trustProxy: boolean,
): string {
	const peerAddress = server?.requestIP(request)?.address;
	const peer = (peerAddress && normalizeIp(peerAddress)) ?? peerAddress ?? "unknown";
	if (!trustProxy) return peer;
	const header = request.headers.get("x-forwarded-for");
	if (!header) return peer;
	const hops = header.split(",");
	let leftmostProxy: string | undefined;
	for (let i = hops.length - 1; i >= 0; i--) {
		const hop = normalizeIp(hops[i] ?? "");
		// A hop our proxies did not write cleanly ends the trustworthy part of the chain.
		if (!hop) break;
		if (!isTrustedProxy(hop)) return hop;
		leftmostProxy = hop;
	}
	return leftmostProxy ?? peer;
}
