/// <reference types="bun" />
import { describe, expect, test } from "bun:test";
import { widgetTexts } from "./texts.ts";
import { endpoints, fill, inkFor, splitLinks, uuid } from "./util.ts";

describe("widget helpers", () => {
	test("uuid is a v4 UUID and unique", () => {
		const a = uuid();
		expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
		expect(uuid()).not.toBe(a);
	});

	test("links: only http(s), trailing punctuation left out, the rest stays text", () => {
		expect(splitLinks("see https://x.test/a?b=1. ok")).toEqual([
			{ text: "see " },
			{ text: "https://x.test/a?b=1", href: "https://x.test/a?b=1" },
			{ text: ". ok" },
		]);
		expect(splitLinks('javascript:alert(1) <img src=x onerror="y">')).toEqual([
			{ text: 'javascript:alert(1) <img src=x onerror="y">' },
		]);
		const [link] = splitLinks('https://x.test/"onmouseover=1').filter((p) => p.href);
		expect(link?.href).toBe("https://x.test/");
	});

	test("text on a brand colour: whichever of white and ink contrasts more", () => {
		expect(inkFor("#1d4ed8")).toBe("#fff");
		expect(inkFor("#fef08a")).toBe("#111827");
		expect(inkFor("rgb(254, 240, 138)")).toBe("#111827");
		expect(inkFor("#000")).toBe("#fff");
	});

	test("older snippet's URLs are normalised", () => {
		const src = "https://x.test/chat-widget/chat-widget.js";
		const want = { api: "https://x.test", ws: "wss://x.test/ws/chat" };
		expect(endpoints(src)).toEqual(want);
		expect(endpoints(src, "https://x.test/api/chat/")).toEqual(want);
		expect(endpoints(src, "https://x.test/api/chat", "wss://x.test")).toEqual(want);
		expect(endpoints(src, "https://x.test", "wss://x.test/ws/chat/")).toEqual(want);
		expect(endpoints("http://127.0.0.1:3000/widget.js")).toEqual({
			api: "http://127.0.0.1:3000",
			ws: "ws://127.0.0.1:3000/ws/chat",
		});
	});

	test("placeholders are filled", () => {
		expect(fill(widgetTexts.en.rateStar, { n: 3 })).toBe("Rate 3 out of 5");
	});

	test("every en text exists in ru", () => {
		for (const key of Object.keys(widgetTexts.en)) expect(widgetTexts.ru).toHaveProperty(key);
	});
});
