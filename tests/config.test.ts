import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, type Env, loadConfig, parseDuration } from "../src/config/index.ts";
import type { TextKey } from "../src/i18n/en.ts";
import { tempDir } from "./support/process.ts";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const GROUP = "-1001234567890";

/** The config of a valid environment; fails the test with the error lines otherwise. */
function configOf(env: Env, readText?: (path: string) => string): Config {
	const result = loadConfig(env, readText);
	if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.join("\n")}`);
	return result.config;
}

/** The error lines of an invalid environment; fails the test if it was accepted. */
function errorsOf(env: Env, readText?: (path: string) => string): string[] {
	const result = loadConfig(env, readText);
	if (result.ok) throw new Error("expected config errors, the config was accepted");
	return result.errors;
}

/** A readText that serves one config file from memory. */
function fileWith(content: unknown): (path: string) => string {
	return (path) => {
		if (path !== "config.json")
			throw new Error(`ENOENT: no such file or directory, open '${path}'`);
		return typeof content === "string" ? content : JSON.stringify(content);
	};
}

const withFile = (content: unknown) => ({
	env: { CONFIG_FILE: "config.json" },
	readText: fileWith(content),
});

describe("parseDuration", () => {
	test.each([
		["500ms", 500],
		["90s", 90_000],
		["10m", 600_000],
		["2h", 7_200_000],
		["7d", 604_800_000],
	])("%s is %d ms", (text, ms) => {
		expect(parseDuration(text)).toBe(ms);
	});

	test.each(["", "10", "m", "1.5h", "-5m", "10 m", "10M", "2w", " 10m", "0s", "366d"])(
		"rejects %p",
		(text) => {
			expect(() => parseDuration(text)).toThrow(RangeError);
		},
	);

	test("the message says what is accepted and what was given", () => {
		expect(() => parseDuration("1.5h")).toThrow(
			'duration must be a duration: a whole number and a unit (ms, s, m, h or d), e.g. "90s", "10m", "2h", "7d" (got "1.5h")',
		);
		expect(() => parseDuration("0m")).toThrow('must be longer than zero (got "0m")');
	});
});

describe("environment", () => {
	test("an empty environment gives every default", () => {
		const en: Partial<Record<TextKey, string>> = {};
		expect(configOf({})).toEqual({
			botToken: undefined,
			supportGroupId: undefined,
			supportGroupIds: [],
			telegramApiUrl: "https://api.telegram.org",
			telegramMode: "polling",
			telegramWebhookUrl: undefined,
			telegramWebhookSecret: undefined,
			databaseUrl: undefined,
			dataDir: "./data",
			port: 3000,
			host: "0.0.0.0",
			publicUrl: "http://localhost:3000",
			allowedOrigins: [],
			appSecret: undefined,
			identitySecret: undefined,
			trustProxy: false,
			locale: "en",
			displayTimezone: "UTC",
			nodeEnv: "development",
			logLevel: "info",
			metricsToken: undefined,
			retention: { bookkeepingMs: 604_800_000, intervalMs: 3_600_000 },
			sessionIdleMs: 180 * 86_400_000,
			away: false,
			assignment: { auto: "first-reply" },
			timers: {
				slaReminders: [600_000, 1_800_000, 7_200_000],
				waitingReminder: 86_400_000,
				waitingAutoclose: 604_800_000,
				linkTokenTtl: 3_600_000,
				wsPing: 30_000,
				wsIdle: 300_000,
				pollTimeout: 25_000,
				mediaUrlTtl: 86_400_000,
			},
			outbox: {
				groupPerMinute: 20,
				groupWindowMs: 60_000,
				privatePerSecond: 1,
				globalPerSecond: 30,
				leaseMs: 60_000,
			},
			card: { pin: "when-idle" },
			groupRoutes: [],
			uploads: { imageMaxBytes: 10 * 1024 * 1024, documentMaxBytes: 20 * 1024 * 1024 },
			texts: { en, ru: {} },
			widgetTexts: { en: {}, ru: {} },
			demoPage: true,
		});
	});

	test("DEMO_PAGE defaults to off in production and can be switched on", () => {
		expect(configOf({ NODE_ENV: "production" }).demoPage).toBe(false);
		expect(configOf({ NODE_ENV: "production", DEMO_PAGE: "true" }).demoPage).toBe(true);
		expect(configOf({ DEMO_PAGE: "false" }).demoPage).toBe(false);
	});

	test("empty and blank values count as unset", () => {
		expect(configOf({ PORT: "", BOT_TOKEN: "  ", LOCALE: "\t" })).toEqual(configOf({}));
	});

	test("every variable is read and normalised", () => {
		const config = configOf({
			BOT_TOKEN: ` ${TOKEN}\n`,
			SUPPORT_GROUP_ID: GROUP,
			TELEGRAM_API_URL: "http://127.0.0.1:8081/",
			TELEGRAM_MODE: "webhook",
			TELEGRAM_WEBHOOK_URL: "https://desk.example.com/telegram/webhook",
			TELEGRAM_WEBHOOK_SECRET: "s3cret_-X".repeat(4),
			DATABASE_URL: "postgresql://desk:pw@db:5432/desk",
			DATA_DIR: "/var/lib/topicdesk",
			PORT: "0",
			HOST: "127.0.0.1",
			PUBLIC_URL: "https://desk.example.com/support/",
			ALLOWED_ORIGINS: "example.com",
			APP_SECRET: "x".repeat(32),
			TRUST_PROXY: "YES",
			LOCALE: "ru",
			DISPLAY_TIMEZONE: "europe/moscow",
			NODE_ENV: "production",
			LOG_LEVEL: "DEBUG",
		});
		expect(config).toMatchObject({
			botToken: TOKEN,
			supportGroupId: -1001234567890,
			telegramApiUrl: "http://127.0.0.1:8081",
			telegramMode: "webhook",
			telegramWebhookUrl: "https://desk.example.com/telegram/webhook",
			telegramWebhookSecret: "s3cret_-X".repeat(4),
			databaseUrl: "postgresql://desk:pw@db:5432/desk",
			dataDir: "/var/lib/topicdesk",
			port: 0,
			host: "127.0.0.1",
			publicUrl: "https://desk.example.com/support",
			allowedOrigins: ["example.com"],
			appSecret: "x".repeat(32),
			trustProxy: true,
			locale: "ru",
			displayTimezone: "Europe/Moscow",
			nodeEnv: "production",
			logLevel: "debug",
		});
	});

	test("PUBLIC_URL defaults to the configured port", () => {
		expect(configOf({ PORT: "8080" }).publicUrl).toBe("http://localhost:8080");
	});

	test.each([
		["TRUST_PROXY", "true", true],
		["TRUST_PROXY", "1", true],
		["TRUST_PROXY", "no", false],
		["TRUST_PROXY", "0", false],
		["TRUST_PROXY", "False", false],
		["TRUST_PROXY", "3", 3],
		["TRUST_PROXY", "10.0.0.0/8, ::1", ["10.0.0.0/8", "::1"]],
	] as [string, string, boolean | number | string[]][])("%s=%s is %p", (name, value, expected) => {
		expect(configOf({ [name]: value }).trustProxy).toEqual(expected);
	});

	test("DATABASE_URL accepts the postgres:// scheme and socket forms", () => {
		expect(configOf({ DATABASE_URL: "postgres://u@/desk?host=/run/postgresql" }).databaseUrl).toBe(
			"postgres://u@/desk?host=/run/postgresql",
		);
	});

	// One bad value per variable; the line must name the variable and say what is expected.
	test.each([
		["BOT_TOKEN", "not-a-token", 'BOT_TOKEN: must look like "123456789:AAH…"'],
		["SUPPORT_GROUP_ID", "-4567", "SUPPORT_GROUP_ID: must be the id of a forum supergroup"],
		["SUPPORT_GROUP_ID", "abc", "SUPPORT_GROUP_ID: must be the id of a forum supergroup"],
		[
			"SUPPORT_GROUP_ID",
			"-1001234567890,-42",
			"SUPPORT_GROUP_ID: must be the id of a forum supergroup",
		],
		[
			"TELEGRAM_API_URL",
			"ftp://api.example.com",
			'TELEGRAM_API_URL: must be an http:// or https:// URL without a query or fragment (paths are appended to it) (got "ftp://api.example.com")',
		],
		[
			"TELEGRAM_API_URL",
			"https://api.example.com/?x=1",
			'TELEGRAM_API_URL: must be an http:// or https:// URL without a query or fragment (paths are appended to it) (got "https://api.example.com/?x=1")',
		],
		["TELEGRAM_MODE", "push", 'TELEGRAM_MODE: must be one of polling, webhook (got "push")'],
		[
			"TELEGRAM_WEBHOOK_URL",
			"desk.example.com/hook",
			"TELEGRAM_WEBHOOK_URL: must be an http:// or https:// URL",
		],
		[
			"TELEGRAM_WEBHOOK_SECRET",
			"has space",
			"TELEGRAM_WEBHOOK_SECRET: must be 32 to 256 characters of A-Z, a-z, 0-9, _ and - (got 9 characters",
		],
		[
			"TELEGRAM_WEBHOOK_SECRET",
			"a".repeat(257),
			"TELEGRAM_WEBHOOK_SECRET: must be 32 to 256 characters",
		],
		[
			"TELEGRAM_WEBHOOK_SECRET",
			"a".repeat(31),
			"TELEGRAM_WEBHOOK_SECRET: must be 32 to 256 characters",
		],
		["DATABASE_URL", "mysql://db/desk", "DATABASE_URL: must be a postgres:// or postgresql:// URL"],
		["PORT", "abc", 'PORT: must be an integer from 0 to 65535 (got "abc")'],
		["PORT", "65536", 'PORT: must be an integer from 0 to 65535 (got "65536")'],
		["PORT", "80.5", 'PORT: must be an integer from 0 to 65535 (got "80.5")'],
		["PORT", "-1", 'PORT: must be an integer from 0 to 65535 (got "-1")'],
		[
			"PUBLIC_URL",
			"desk.example.com",
			'PUBLIC_URL: must be an http:// or https:// URL without a query or fragment (paths are appended to it) (got "desk.example.com")',
		],
		[
			"PUBLIC_URL",
			"https://desk.example.com/#x",
			'PUBLIC_URL: must be an http:// or https:// URL without a query or fragment (paths are appended to it) (got "https://desk.example.com/#x")',
		],
		[
			"ALLOWED_ORIGINS",
			"example.com, not a domain",
			'ALLOWED_ORIGINS: must be comma-separated domains or URLs, e.g. "example.com, https://shop.example.org" (not a domain: "not a domain")',
		],
		[
			"APP_SECRET",
			"short",
			"APP_SECRET: must be at least 32 characters long (got 5 characters, value not shown)",
		],
		[
			"TRUST_PROXY",
			"maybe",
			'TRUST_PROXY: must be true, false, 1, 0, yes or no, a number of proxies up to 16, or the proxies\' addresses and CIDR ranges such as "10.0.0.0/8, ::1" (got "maybe")',
		],
		["LOCALE", "fr", 'LOCALE: must be one of en, ru (got "fr")'],
		[
			"DEMO_PAGE",
			"constructor",
			'DEMO_PAGE: must be true, false, 1, 0, yes or no (got "constructor")',
		],
		[
			"DISPLAY_TIMEZONE",
			"Mars/Olympus",
			'DISPLAY_TIMEZONE: must be an IANA time zone such as "UTC" or "Europe/Moscow" (got "Mars/Olympus")',
		],
		[
			"NODE_ENV",
			"staging",
			'NODE_ENV: must be one of development, production, test (got "staging")',
		],
		["LOG_LEVEL", "verbose", 'LOG_LEVEL: must be one of debug, info, warn, error (got "verbose")'],
		[
			"CONFIG_FILE",
			"/nonexistent/topicdesk.json",
			'CONFIG_FILE: cannot read "/nonexistent/topicdesk.json": ENOENT',
		],
	])("%s=%p is rejected", (name, value, expected) => {
		// Companions keep the cross-variable rules quiet, so only the bad value is reported.
		const companions: Env =
			name === "BOT_TOKEN"
				? { SUPPORT_GROUP_ID: GROUP }
				: name === "SUPPORT_GROUP_ID"
					? { BOT_TOKEN: TOKEN }
					: {};
		const errors = errorsOf({ ...companions, [name]: value });
		expect(errors).toHaveLength(1);
		expect(errors[0]).toStartWith(expected);
	});

	test("secrets are never echoed in error lines", () => {
		const secrets = {
			BOT_TOKEN: "123:has spaces in it",
			TELEGRAM_WEBHOOK_SECRET: "hunter2 hunter2",
			APP_SECRET: "hunter2hunter2",
			DATABASE_URL: "mysql://root:hunter2@db/desk",
		};
		const errors = errorsOf({ ...secrets, SUPPORT_GROUP_ID: GROUP });
		expect(errors).toHaveLength(4);
		for (const line of errors) expect(line).not.toContain("hunter2");
		expect(errors.join("\n")).not.toContain("has spaces");
	});

	test("every problem is reported at once, in variable order", () => {
		const errors = errorsOf({
			PORT: "abc",
			LOCALE: "fr",
			LOG_LEVEL: "loud",
			TRUST_PROXY: "maybe",
		});
		expect(errors).toEqual([
			'PORT: must be an integer from 0 to 65535 (got "abc")',
			'TRUST_PROXY: must be true, false, 1, 0, yes or no, a number of proxies up to 16, or the proxies\' addresses and CIDR ranges such as "10.0.0.0/8, ::1" (got "maybe")',
			'LOCALE: must be one of en, ru (got "fr")',
			'LOG_LEVEL: must be one of debug, info, warn, error (got "loud")',
		]);
	});

	test("environment and config file problems are reported together", () => {
		const errors = errorsOf(
			{ PORT: "abc", CONFIG_FILE: "config.json" },
			fileWith({ ws: { ping: "soon" } }),
		);
		expect(errors).toHaveLength(2);
		expect(errors[0]).toStartWith("PORT: ");
		expect(errors[1]).toStartWith("CONFIG_FILE ws.ping: must be a duration");
	});
});

describe("Telegram settings", () => {
	test("BOT_TOKEN without SUPPORT_GROUP_ID is an error", () => {
		expect(errorsOf({ BOT_TOKEN: TOKEN })).toEqual([
			"SUPPORT_GROUP_ID: required when BOT_TOKEN is set",
		]);
	});

	test("a malformed BOT_TOKEN still asks for its group", () => {
		const errors = errorsOf({ BOT_TOKEN: "oops" });
		expect(errors).toContain("SUPPORT_GROUP_ID: required when BOT_TOKEN is set");
		expect(errors.some((line) => line.startsWith("BOT_TOKEN: "))).toBe(true);
	});

	test("SUPPORT_GROUP_ID alone is accepted (the bot stays disabled)", () => {
		const config = configOf({ SUPPORT_GROUP_ID: GROUP });
		expect(config.botToken).toBeUndefined();
		expect(config.supportGroupId).toBe(-1001234567890);
	});

	test("webhook mode requires the URL and the secret", () => {
		expect(errorsOf({ TELEGRAM_MODE: "webhook" })).toEqual([
			"TELEGRAM_WEBHOOK_URL: required when TELEGRAM_MODE is webhook",
			"TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_MODE is webhook",
		]);
		expect(
			errorsOf({ TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_URL: "https://x.example/hook" }),
		).toEqual(["TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_MODE is webhook"]);
	});

	test("webhook mode with both set is accepted; a 256-character secret is the longest", () => {
		const secret = "A1_-".repeat(64);
		const config = configOf({
			TELEGRAM_MODE: "Webhook",
			TELEGRAM_WEBHOOK_URL: "https://x.example/telegram/webhook",
			TELEGRAM_WEBHOOK_SECRET: secret,
		});
		expect(config.telegramMode).toBe("webhook");
		expect(config.telegramWebhookSecret).toBe(secret);
	});

	test("polling mode does not require webhook settings", () => {
		expect(configOf({ TELEGRAM_MODE: "polling" }).telegramWebhookUrl).toBeUndefined();
	});
});

describe("ALLOWED_ORIGINS", () => {
	test.each([
		["example.com", ["example.com"]],
		[" Example.COM , shop.example.org ,, ", ["example.com", "shop.example.org"]],
		["https://Example.com/path?q=1#x, http://localhost:5173", ["example.com", "localhost"]],
		["https://user@sub.example.com:8443", ["sub.example.com"]],
		["*.example.com, example.com.", ["example.com"]],
		["ПРИМЕР.РФ, https://магазин.рф/", ["пример.рф", "магазин.рф"]],
		["xn--e1afmkfd.xn--p1ai", ["xn--e1afmkfd.xn--p1ai"]],
		[",, ,", []],
	])("%p gives %p", (value, expected) => {
		expect(configOf({ ALLOWED_ORIGINS: value }).allowedOrigins).toEqual(expected);
	});

	test("every bad entry is named", () => {
		expect(errorsOf({ ALLOWED_ORIGINS: "ok.example, https://, a b, x/y:z" })).toEqual([
			'ALLOWED_ORIGINS: must be comma-separated domains or URLs, e.g. "example.com, https://shop.example.org" (not a domain: "https://", "a b")',
		]);
	});
});

describe("config file", () => {
	test("overrides timers, budgets, limits and texts", () => {
		const { env, readText } = withFile({
			sla: { reminders: ["1s", "2s"] },
			waiting: { reminder: "3s", autoclose: "6s" },
			linkToken: { ttl: "2m" },
			ws: { ping: "1s", idle: "5s" },
			telegram: { pollTimeout: "1s" },
			outbox: { groupPerMinute: 600, privatePerSecond: 0.5, globalPerSecond: 100 },
			uploads: { imageMaxBytes: 1024, documentMaxBytes: 2048 },
			media: { urlTtl: "10m" },
			texts: { en: { webPrefix: "[Web] " }, ru: { telegramPrefix: "Сайт {session}" } },
		});
		const config = configOf(env, readText);
		expect(config.timers).toEqual({
			slaReminders: [1_000, 2_000],
			waitingReminder: 3_000,
			waitingAutoclose: 6_000,
			linkTokenTtl: 120_000,
			wsPing: 1_000,
			wsIdle: 5_000,
			pollTimeout: 1_000,
			mediaUrlTtl: 600_000,
		});
		expect(config.outbox).toEqual({
			groupWindowMs: 60_000,
			groupPerMinute: 600,
			privatePerSecond: 0.5,
			globalPerSecond: 100,
			leaseMs: 60_000,
		});
		expect(config.uploads).toEqual({ imageMaxBytes: 1024, documentMaxBytes: 2048 });
		expect(config.texts).toEqual({
			en: { webPrefix: "[Web] " },
			ru: { telegramPrefix: "Сайт {session}" },
		});
	});

	test("the widget's texts are overridden under texts.<locale>.widget, apart from the bot's", () => {
		const { env, readText } = withFile({
			texts: { en: { webPrefix: "W ", widget: { launcher: "Ask us" } }, ru: { widget: {} } },
		});
		const config = configOf(env, readText);
		expect(config.texts).toEqual({ en: { webPrefix: "W " }, ru: {} });
		expect(config.widgetTexts).toEqual({ en: { launcher: "Ask us" }, ru: {} });
		const bad = withFile({ texts: { en: { widget: { launchr: "Ask us" } } } });
		expect(errorsOf(bad.env, bad.readText)[0]).toStartWith(
			"CONFIG_FILE texts.en.widget.launchr: unknown key",
		);
	});

	test("keys left out keep their defaults", () => {
		const { env, readText } = withFile({ waiting: { reminder: "1h" } });
		const config = configOf(env, readText);
		expect(config.timers.waitingReminder).toBe(3_600_000);
		expect(config.timers.waitingAutoclose).toBe(604_800_000);
		expect(config.timers.slaReminders).toEqual(configOf({}).timers.slaReminders);
	});

	test("a real file is read from disk, byte order mark and all", () => {
		const path = join(tempDir("topicdesk-config-"), "config.json");
		writeFileSync(path, `\uFEFF${JSON.stringify({ ws: { ping: "2s" } })}`);
		expect(configOf({ CONFIG_FILE: path }).timers.wsPing).toBe(2_000);
	});

	test("groups.routes: rules naming a group of SUPPORT_GROUP_ID, each field checked", () => {
		const routes = [
			{ group: -1009876543210, locale: "ru" },
			{ group: -1001234567890, origin: "shop.example" },
			{ group: -1009876543210, channel: "telegram" as const },
		];
		const env = { BOT_TOKEN: TOKEN, SUPPORT_GROUP_ID: "-1001234567890, -1009876543210" };
		const { env: withRoutes, readText } = withFile({ groups: { routes } });
		const config = configOf({ ...withRoutes, ...env }, readText);
		expect(config.supportGroupId).toBe(-1001234567890);
		expect(config.supportGroupIds).toEqual([-1001234567890, -1009876543210]);
		expect(config.groupRoutes).toEqual(routes);
		const stray = withFile({ groups: { routes: [{ group: -1005555555555, locale: "ru" }] } });
		expect(errorsOf({ ...stray.env, ...env }, stray.readText)).toEqual([
			"CONFIG_FILE groups.routes[0].group: must be one of SUPPORT_GROUP_ID (got -1005555555555)",
		]);
		const bad = withFile({ groups: { routes: [{ group: -1009876543210, channel: "fax" }] } });
		expect(errorsOf({ ...bad.env, ...env }, bad.readText)[0]).toStartWith(
			"CONFIG_FILE groups.routes[0].channel: must be",
		);
	});

	test("an unknown key is rejected with its path", () => {
		const { env, readText } = withFile({ sla: { remiders: ["1m"] }, colour: "blue" });
		expect(errorsOf(env, readText)).toEqual([
			"CONFIG_FILE colour: unknown key (allowed: sla, waiting, linkToken, ws, telegram, outbox, card, groups, uploads, media, retention, rateLimits, quotas, session, businessHours, away, assignment, canned, texts)",
			"CONFIG_FILE sla.remiders: unknown key (allowed: reminders)",
		]);
	});

	test("retention: bookkeeping, media and interval durations; media kept by default", () => {
		const { env, readText } = withFile({
			retention: { bookkeeping: "2d", media: "90d", interval: "30m" },
		});
		expect(configOf(env, readText).retention).toEqual({
			bookkeepingMs: 2 * 86_400_000,
			mediaMs: 90 * 86_400_000,
			intervalMs: 1_800_000,
		});
		expect(configOf({}).retention.mediaMs).toBeUndefined();
		const bad = withFile({ retention: { media: "forever" } });
		expect(errorsOf(bad.env, bad.readText)[0]).toStartWith("CONFIG_FILE retention.media: must be");
	});

	test("METRICS_TOKEN is read and must be at least 16 characters", () => {
		expect(configOf({ METRICS_TOKEN: "0123456789abcdef" }).metricsToken).toBe("0123456789abcdef");
		expect(errorsOf({ METRICS_TOKEN: "short" })[0]).toStartWith(
			"METRICS_TOKEN: must be at least 16 characters long",
		);
	});

	test("rate limits: set keys override, none set means none, bad ones are named", () => {
		const { env, readText } = withFile({ rateLimits: { message: 3, init: 200 } });
		expect(configOf(env, readText).rateLimits).toEqual({ message: 3, init: 200 });
		expect(configOf({}).rateLimits).toBeUndefined();
		const bad = withFile({ rateLimits: { messages: 3, read: 0, upload: 2.5 } });
		expect(errorsOf(bad.env, bad.readText)).toEqual([
			"CONFIG_FILE rateLimits.messages: unknown key (allowed: init, message, upload, read, link, widgetErrors, telegramDm)",
			"CONFIG_FILE rateLimits.upload: must be a whole number of requests per minute, at least 1 (got 2.5)",
			"CONFIG_FILE rateLimits.read: must be a whole number of requests per minute, at least 1 (got 0)",
		]);
	});

	test("a text key that is not in the catalogue is rejected", () => {
		const { env, readText } = withFile({ texts: { en: { webPrefix: "W ", wepPrefix: "W " } } });
		const [line, ...rest] = errorsOf(env, readText);
		expect(rest).toEqual([]);
		expect(line).toStartWith("CONFIG_FILE texts.en.wepPrefix: unknown key");
	});

	test("a locale without a catalogue is rejected", () => {
		const { env, readText } = withFile({ texts: { de: {} } });
		expect(errorsOf(env, readText)).toEqual([
			"CONFIG_FILE texts.de: unknown key (allowed: en, ru)",
		]);
	});

	test("a text must be a string", () => {
		const { env, readText } = withFile({ texts: { ru: { webPrefix: 5 } } });
		expect(errorsOf(env, readText)).toEqual([
			"CONFIG_FILE texts.ru.webPrefix: must be a string (got 5)",
		]);
	});

	test("card.pin is one of its three words", () => {
		const { env, readText } = withFile({ card: { pin: "sometimes" } });
		expect(errorsOf(env, readText)).toEqual([
			'CONFIG_FILE card.pin: must be "when-idle", "always" or "never" (got "sometimes")',
		]);
		const never = withFile({ card: { pin: "never" } });
		expect(configOf(never.env, never.readText).card).toEqual({ pin: "never" });
	});

	test("bad durations are reported with their path, all of them", () => {
		const { env, readText } = withFile({
			sla: { reminders: ["10m", "half an hour", "0s", 7] },
			ws: { idle: "5 minutes" },
			linkToken: { ttl: "1000d" },
		});
		expect(errorsOf(env, readText)).toEqual([
			'CONFIG_FILE sla.reminders[1]: must be a duration: a whole number and a unit (ms, s, m, h or d), e.g. "90s", "10m", "2h", "7d" (got "half an hour")',
			'CONFIG_FILE sla.reminders[2]: must be longer than zero (got "0s")',
			'CONFIG_FILE sla.reminders[3]: must be a duration like "10m" (got 7)',
			'CONFIG_FILE linkToken.ttl: must be at most 365d (got "1000d")',
			'CONFIG_FILE ws.idle: must be a duration: a whole number and a unit (ms, s, m, h or d), e.g. "90s", "10m", "2h", "7d" (got "5 minutes")',
		]);
	});

	test("SLA reminders must be strictly increasing", () => {
		const { env, readText } = withFile({ sla: { reminders: ["10m", "1h", "60m", "30m"] } });
		expect(errorsOf(env, readText)).toEqual([
			'CONFIG_FILE sla.reminders[2]: must be longer than sla.reminders[1], reminders are offsets in increasing order (got "60m" after "1h")',
			'CONFIG_FILE sla.reminders[3]: must be longer than sla.reminders[2], reminders are offsets in increasing order (got "30m" after "60m")',
		]);
	});

	test.each([
		[[], 0],
		[["1m", "2m", "3m", "4m", "5m", "6m", "7m", "8m", "9m", "10m", "11m"], 11],
	])("SLA reminders need 1 to 10 entries (%#)", (reminders) => {
		const { env, readText } = withFile({ sla: { reminders } });
		const [line, ...rest] = errorsOf(env, readText);
		expect(rest).toEqual([]);
		expect(line).toStartWith(
			'CONFIG_FILE sla.reminders: must be a list of 1 to 10 durations, e.g. ["10m", "30m", "2h"] (got [',
		);
	});

	test("waiting.autoclose must come after waiting.reminder, defaults included", () => {
		const later = withFile({ waiting: { reminder: "8d" } });
		expect(errorsOf(later.env, later.readText)).toEqual([
			'CONFIG_FILE waiting.autoclose: must be longer than waiting.reminder ("7d" is not longer than "8d")',
		]);
		const equal = withFile({ waiting: { reminder: "24h", autoclose: "1d" } });
		expect(errorsOf(equal.env, equal.readText)).toHaveLength(1);
	});

	test("ws.ping must be shorter than ws.idle", () => {
		const { env, readText } = withFile({ ws: { ping: "5m" } });
		expect(errorsOf(env, readText)).toEqual([
			'CONFIG_FILE ws.ping: must be shorter than ws.idle, or quiet sockets are cut off before they are pinged ("5m" is not shorter than "5m")',
		]);
	});

	test("telegram.pollTimeout must be whole seconds", () => {
		const { env, readText } = withFile({ telegram: { pollTimeout: "1500ms" } });
		expect(errorsOf(env, readText)).toEqual([
			'CONFIG_FILE telegram.pollTimeout: must be whole seconds, the Bot API takes the long-poll timeout in seconds (got "1500ms")',
		]);
	});

	test.each([
		[
			{ outbox: { groupPerMinute: 0 } },
			"CONFIG_FILE outbox.groupPerMinute: must be a number greater than 0 (got 0)",
		],
		[
			{ outbox: { globalPerSecond: "30" } },
			'CONFIG_FILE outbox.globalPerSecond: must be a number greater than 0 (got "30")',
		],
		[
			{ uploads: { imageMaxBytes: 1.5 } },
			"CONFIG_FILE uploads.imageMaxBytes: must be a whole number of bytes, at least 1 (got 1.5)",
		],
		[
			{ uploads: { documentMaxBytes: -1 } },
			"CONFIG_FILE uploads.documentMaxBytes: must be a whole number of bytes, at least 1 (got -1)",
		],
		[{ ws: "30s" }, 'CONFIG_FILE ws: must be an object (got "30s")'],
		[{ texts: null }, "CONFIG_FILE texts: must be an object with the locales en and ru (got null)"],
		[[1, 2], "CONFIG_FILE: must be a JSON object (got [1,2])"],
		["null", "CONFIG_FILE: must be a JSON object (got null)"],
	])("%j is rejected", (content, expected) => {
		const { env, readText } = withFile(content);
		expect(errorsOf(env, readText)).toEqual([expected]);
	});

	test("business hours and a scaled-down group window are read; bad ones are named", () => {
		const good = withFile({
			businessHours: {
				timeZone: "Europe/Berlin",
				week: { mon: ["09:00", "18:00"], sat: ["10:00", "14:00"] },
			},
			outbox: { groupPerMinute: 20, groupWindow: "5s" },
		});
		const loaded = loadConfig(good.env, good.readText);
		if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
		expect(loaded.config.businessHours).toEqual({
			timeZone: "Europe/Berlin",
			week: { mon: ["09:00", "18:00"], sat: ["10:00", "14:00"] },
		});
		expect(loaded.config.outbox.groupWindowMs).toBe(5_000);
		const bad = withFile({
			businessHours: {
				timeZone: "Mars/Olympus",
				week: { mon: ["9am", "18:00"], someday: ["09:00", "10:00"] },
			},
		});
		const errors = errorsOf(bad.env, bad.readText);
		expect(errors.some((line) => line.startsWith("CONFIG_FILE businessHours.week.mon[0]"))).toBe(
			true,
		);
		expect(
			errors.some((line) => line.startsWith("CONFIG_FILE businessHours.week.someday: unknown key")),
		).toBe(true);
	});

	test("invalid JSON is one clear line", () => {
		const { env, readText } = withFile('{"sla": {"reminders": ["10m",]}}');
		const errors = errorsOf(env, readText);
		expect(errors).toHaveLength(1);
		expect(errors[0]).toStartWith('CONFIG_FILE: "config.json" is not valid JSON: ');
	});

	test("a missing file is one clear line", () => {
		const path = join(tmpdir(), `topicdesk-missing-${crypto.randomUUID()}.json`);
		expect(errorsOf({ CONFIG_FILE: path })).toEqual([
			`CONFIG_FILE: cannot read ${JSON.stringify(path)}: ENOENT: no such file or directory, open '${path}'`,
		]);
	});
});

describe("readConfigOrExit", () => {
	test("prints every problem to stderr and exits with 1", async () => {
		const configModule = join(import.meta.dir, "..", "src", "config/index.ts");
		const code = `
			import { readConfigOrExit } from ${JSON.stringify(configModule)};
			readConfigOrExit({ PORT: "abc", LOCALE: "fr", BOT_TOKEN: ${JSON.stringify(TOKEN)} });
			console.log("still running");
		`;
		const child = Bun.spawn([process.execPath, "-e", code], {
			env: {},
			stdout: "pipe",
			stderr: "pipe",
		});
		const [exitCode, stdout, stderr] = await Promise.all([
			child.exited,
			new Response(child.stdout).text(),
			new Response(child.stderr).text(),
		]);
		expect(stdout).toBe("");
		expect(stderr.trim().split("\n")).toEqual([
			'config error: PORT: must be an integer from 0 to 65535 (got "abc")',
			'config error: LOCALE: must be one of en, ru (got "fr")',
			"config error: SUPPORT_GROUP_ID: required when BOT_TOKEN is set",
		]);
		expect(exitCode).toBe(1);
	});

	test("returns the config when it is valid", async () => {
		const { readConfigOrExit } = await import("../src/config/index.ts");
		expect(readConfigOrExit({ PORT: "4000" }).port).toBe(4000);
	});
});
