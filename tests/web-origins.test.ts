import { describe, expect, test } from "bun:test";
import { asciiHost, originPolicy, parseOrigin } from "../src/web/origins.ts";

const policy = (nodeEnv: "development" | "production" | "test" = "production") =>
	originPolicy({
		allowedOrigins: ["example.com", "пример.рф", "xn--80aairftm.xn--p1ai"],
		publicUrl: "https://desk.support.io",
		nodeEnv,
	});

describe("asciiHost", () => {
	test.each([
		["пример.рф", "xn--e1afmkfd.xn--p1ai"],
		["ПРИМЕР.РФ", "xn--e1afmkfd.xn--p1ai"],
		["xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"],
		["Example.COM.", "example.com"],
	])("%p is %p", (host, ascii) => {
		expect(asciiHost(host)).toBe(ascii);
	});

	test.each(["", "a b", "example.com/path", "user@example.com", "example.com:80"])(
		"%p is not a hostname",
		(host) => {
			expect(asciiHost(host)).toBeUndefined();
		},
	);
});

describe("parseOrigin", () => {
	test("an http(s) origin gives its scheme and ASCII hostname", () => {
		expect(parseOrigin("https://Shop.Пример.рф:8443")).toEqual({
			origin: "https://shop.xn--e1afmkfd.xn--p1ai:8443",
			protocol: "https:",
			hostname: "shop.xn--e1afmkfd.xn--p1ai",
		});
	});

	test.each([
		"null",
		"",
		"file://",
		"ftp://example.com",
		"chrome-extension://abcdef",
		"https://example.com/",
		"https://example.com/path",
		"https://example.com?x=1",
		"https://user@example.com",
		"https://",
		"example.com",
	])("%p is not an origin", (origin) => {
		expect(parseOrigin(origin)).toBeUndefined();
	});
});

describe("originPolicy", () => {
	test.each([
		"https://example.com",
		"https://www.example.com",
		"https://a.b.example.com:8443",
		"https://EXAMPLE.com",
		"https://example.com.",
		"https://xn--e1afmkfd.xn--p1ai",
		"https://пример.рф",
		"https://shop.xn--e1afmkfd.xn--p1ai",
		// configured in punycode, sent in Cyrillic
		"https://магазин.рф",
		"https://desk.support.io",
	])("allows %p", (origin) => {
		expect(policy().allows(origin)).toBe(true);
	});

	test.each([
		"https://evilexample.com",
		"https://example.com.evil.net",
		"https://notexample.com",
		"https://com",
		"https://xn--p1ai",
		"https://example.org",
		"https://example.co",
		// the own origin is one origin, not a domain: another scheme or port is another origin
		"http://desk.support.io",
		"https://desk.support.io:8443",
		"https://other.support.io",
		"https://support.io",
		"null",
		"ftp://example.com",
		"https://example.com/",
		"https://localhost:5173",
		"http://127.0.0.1:3000",
		// a site embedding the widget in production is served over https
		"http://example.com",
		"http://shop.example.com",
	])("refuses %p in production", (origin) => {
		expect(policy("production").allows(origin)).toBe(false);
	});

	test.each(["development", "test"] as const)(
		"allows localhost on any port in %s, still not null or a suffix trick",
		(nodeEnv) => {
			const local = policy(nodeEnv);
			for (const origin of ["http://localhost", "http://localhost:5173", "https://127.0.0.1:8443"])
				expect(local.allows(origin)).toBe(true);
			expect(local.allows("http://[::1]:3000")).toBe(true);
			for (const origin of ["null", "http://localhost.evil.net", "http://evillocalhost"])
				expect(local.allows(origin)).toBe(false);
		},
	);

	test("with no domains configured only the own origin is allowed", () => {
		const own = originPolicy({
			allowedOrigins: [],
			publicUrl: "http://localhost:3000",
			nodeEnv: "production",
		});
		expect(own.allows("http://localhost:3000")).toBe(true);
		expect(own.allows("http://localhost:3001")).toBe(false);
		expect(own.allows("https://example.com")).toBe(false);
	});
});
