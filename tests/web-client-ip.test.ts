import { describe, expect, test } from "bun:test";
import { clientKey } from "../src/core/client-key.ts";
import { clientIp, inRange, normalizeIp } from "../src/web/client-ip.ts";

/** A request as Bun hands it over: a peer address and maybe an X-Forwarded-For header. */
function from(peer: string, forwardedFor?: string) {
	const request = new Request("http://desk.test/api/chat/init", {
		headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
	});
	return { request, server: { requestIP: () => ({ address: peer }) } };
}

describe("normalizeIp", () => {
	test.each([
		["203.0.113.7", "203.0.113.7"],
		[" 203.0.113.7 ", "203.0.113.7"],
		["203.0.113.7:5678", "203.0.113.7"],
		["::ffff:127.0.0.1", "127.0.0.1"],
		["[2001:DB8::1]:443", "2001:db8::1"],
		["2001:db8::1", "2001:db8::1"],
	])("%p is %p", (text, ip) => {
		expect(normalizeIp(text)).toBe(ip);
	});

	test.each(["", "unknown", "example.com", "999.1.1.1", "1.2.3", "_hidden"])(
		"%p is not an address",
		(text) => {
			expect(normalizeIp(text)).toBeUndefined();
		},
	);
});

describe("inRange", () => {
	test.each([
		["10.1.2.3", "10.0.0.0/8", true],
		["172.31.255.255", "172.16.0.0/12", true],
		["172.32.0.1", "172.16.0.0/12", false],
		["127.0.0.1", "127.0.0.1", true],
		["127.0.0.2", "127.0.0.1", false],
		["fd00::1", "fc00::/7", true],
		["2001:db8::1", "fc00::/7", false],
		["2001:db8:1:2::5", "2001:db8:1:2::/64", true],
		["10.0.0.1", "::/0", false],
	])("%p in %p: %p", (address, range, inside) => {
		expect(inRange(address, range)).toBe(inside);
	});
});

describe("clientKey", () => {
	test("IPv4 is the address, IPv6 its /64", () => {
		expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
		expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
		expect(clientKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
		expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
		expect(clientKey("::1")).toBe("0:0:0:0::/64");
	});
});

describe("clientIp", () => {
	test("without TRUST_PROXY the peer is the client and X-Forwarded-For is ignored", () => {
		const { request, server } = from("::ffff:198.51.100.4", "203.0.113.7");
		expect(clientIp(request, server, false)).toBe("198.51.100.4");
	});

	test.each([
		["203.0.113.7", "203.0.113.7"],
		// one proxy: its entry is the rightmost; what the client wrote on the left is never used
		["1.1.1.1, 203.0.113.7", "203.0.113.7"],
		// a private address is not trusted for being private: it is what the proxy saw
		["203.0.113.7, 10.0.0.2", "10.0.0.2"],
		["2001:db8::7", "2001:db8::7"],
		// the proxy wrote something unreadable: the peer
		["203.0.113.7, unknown", "127.0.0.1"],
		["", "127.0.0.1"],
	])("with TRUST_PROXY=true (one proxy), X-Forwarded-For %p gives %p", (header, ip) => {
		const { request, server } = from("127.0.0.1", header);
		expect(clientIp(request, server, true)).toBe(ip);
	});

	test.each([
		["1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"],
		["203.0.113.7, 10.0.0.2", "203.0.113.7"],
		// a chain shorter than the proxies: the leftmost hop there is
		["10.0.0.2", "10.0.0.2"],
	])("with TRUST_PROXY=2, X-Forwarded-For %p gives %p", (header, ip) => {
		const { request, server } = from("127.0.0.1", header);
		expect(clientIp(request, server, 2)).toBe(ip);
	});

	test.each([
		// hops in the list are ours; the first one outside it is the client
		["127.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"],
		// a private address outside the list is a client, whatever it claims before it
		["127.0.0.1", "203.0.113.7, 192.168.7.7", "192.168.7.7"],
		// a peer that is not one of our proxies is the client: its header is ignored
		["198.51.100.4", "203.0.113.7", "198.51.100.4"],
	])(
		"with TRUST_PROXY=127.0.0.1,10.0.0.0/8, peer %p and X-Forwarded-For %p give %p",
		(peer, header, ip) => {
			const { request, server } = from(peer, header);
			expect(clientIp(request, server, ["127.0.0.1", "10.0.0.0/8"])).toBe(ip);
		},
	);

	test("with TRUST_PROXY and no header the peer is the client", () => {
		const { request, server } = from("10.0.0.9");
		expect(clientIp(request, server, true)).toBe("10.0.0.9");
	});

	test("several X-Forwarded-For headers read as one list", () => {
		const headers = new Headers();
		headers.append("x-forwarded-for", "1.1.1.1");
		headers.append("x-forwarded-for", "10.0.0.1, 203.0.113.9");
		const request = new Request("http://desk.test/", { headers });
		expect(clientIp(request, { requestIP: () => ({ address: "127.0.0.1" }) }, true)).toBe(
			"203.0.113.9",
		);
	});

	test("no server or no peer address gives a stable placeholder", () => {
		const request = new Request("http://desk.test/");
		expect(clientIp(request, null, false)).toBe("unknown");
		expect(clientIp(request, { requestIP: () => null }, true)).toBe("unknown");
	});
});
