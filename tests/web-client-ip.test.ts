import { describe, expect, test } from "bun:test";
import { clientIp, isTrustedProxy, normalizeIp } from "../src/web/client-ip.ts";

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

describe("isTrustedProxy", () => {
	test.each([
		"127.0.0.1",
		"10.1.2.3",
		"172.16.0.1",
		"172.31.255.255",
		"192.168.1.1",
		"100.64.0.1",
		"169.254.1.1",
		"::1",
		"fd00::1",
		"fc12:3456::1",
		"fe80::1",
	])("%p is a proxy", (address) => {
		expect(isTrustedProxy(address)).toBe(true);
	});

	test.each(["203.0.113.7", "172.32.0.1", "172.15.255.255", "8.8.8.8", "2001:db8::1", "fc::1"])(
		"%p is a client",
		(address) => {
			expect(isTrustedProxy(address)).toBe(false);
		},
	);
});

describe("clientIp", () => {
	test("without TRUST_PROXY the peer is the client and X-Forwarded-For is ignored", () => {
		const { request, server } = from("::ffff:198.51.100.4", "203.0.113.7");
		expect(clientIp(request, server, false)).toBe("198.51.100.4");
	});

	test.each([
		["203.0.113.7", "203.0.113.7"],
		// a client-supplied entry on the left is never used
		["1.1.1.1, 203.0.113.7", "203.0.113.7"],
		["1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"],
		["203.0.113.7, 10.0.0.2, 192.168.0.5", "203.0.113.7"],
		["2001:db8::7, fd00::2", "2001:db8::7"],
		// an intranet client behind two proxies: the leftmost private hop
		["10.0.0.5, 10.0.0.1", "10.0.0.5"],
		["garbage, 10.0.0.5", "10.0.0.5"],
		// the proxies wrote something unreadable: the peer
		["203.0.113.7, unknown", "127.0.0.1"],
		["", "127.0.0.1"],
	])("with TRUST_PROXY, X-Forwarded-For %p gives %p", (header, ip) => {
		const { request, server } = from("127.0.0.1", header);
		expect(clientIp(request, server, true)).toBe(ip);
	});

	test("with TRUST_PROXY and no header the peer is the client", () => {
		const { request, server } = from("10.0.0.9");
		expect(clientIp(request, server, true)).toBe("10.0.0.9");
	});

	test("several X-Forwarded-For headers read as one list", () => {
		const headers = new Headers();
		headers.append("x-forwarded-for", "1.1.1.1");
		headers.append("x-forwarded-for", "203.0.113.9, 10.0.0.1");
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
