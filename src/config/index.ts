/**
 * Environment + config file → one typed, validated config object (SPEC 1.1, 1.2). The only
 * reader of process.env is the composition root, which hands it to readConfigOrExit.
 */
import { readFileSync } from "node:fs";
import { type Static, Type } from "@sinclair/typebox";
import { QuotasSchema } from "../core/quotas.ts";
import {
	allowedOrigins,
	baseUrl,
	boolean,
	botToken,
	httpUrl,
	integerFrom,
	oneOf,
	type Parser,
	postgresUrl,
	productionOrigins,
	secret,
	supergroupId,
	text,
	timeZone,
	trustProxy,
	webhookSecret,
} from "./env.ts";
import {
	BusinessHoursSchema,
	loadConfigFile,
	OutboxSchema,
	RateLimitsSchema,
	RetentionSchema,
	TextsSchema,
	TimersSchema,
	UploadsSchema,
	WidgetTextsSchema,
} from "./file.ts";

export { parseDuration } from "./duration.ts";
export type { TextOverrides } from "./file.ts";

const TelegramModeSchema = Type.Union([Type.Literal("polling"), Type.Literal("webhook")]);
// The shipped locales are exactly those the config file carries texts for.
const LocaleSchema = Type.KeyOf(TextsSchema);
const NodeEnvSchema = Type.Union([
	Type.Literal("development"),
	Type.Literal("production"),
	Type.Literal("test"),
]);
const LogLevelSchema = Type.Union([
	Type.Literal("debug"),
	Type.Literal("info"),
	Type.Literal("warn"),
	Type.Literal("error"),
]);

/**
 * How long a web message that would be stored alone may wait for others on a busy desk (README
 * "accept batches"). At 50 messages/s 60 ms gathers three or four messages per statement: a sixth
 * less CPU than 40 ms (two or three) for about 20 ms more before the echo, which the widget
 * shows as the sent mark of a message it already displays (docs/BENCHMARKS.md, fifteenth pass).
 */
export const DEFAULT_ACCEPT_LINGER_MS = 60;

/** The resolved configuration: defaults applied, durations in milliseconds. */
export const ConfigSchema = Type.Object({
	/** Absent: the bot is disabled and Telegram work waits in the outbox. */
	botToken: Type.Optional(Type.String()),
	/** Present whenever botToken is. */
	supportGroupId: Type.Optional(Type.Integer()),
	/** Bot API root without a trailing slash. */
	telegramApiUrl: Type.String(),
	telegramMode: TelegramModeSchema,
	/** Present in webhook mode. */
	telegramWebhookUrl: Type.Optional(Type.String()),
	/** Present in webhook mode. */
	telegramWebhookSecret: Type.Optional(Type.String()),
	/** Absent: embedded PGlite in dataDir. */
	databaseUrl: Type.Optional(Type.String()),
	dataDir: Type.String(),
	/** 0 means any free port. */
	port: Type.Integer({ minimum: 0, maximum: 65535 }),
	host: Type.String(),
	/** Public base URL without a trailing slash. */
	publicUrl: Type.String(),
	/** Lower-cased hostnames, IDN kept as written. */
	allowedOrigins: Type.Array(Type.String()),
	/** Absent: generated once and stored in the database. */
	appSecret: Type.Optional(Type.String({ minLength: 32 })),
	/** Off, a number of proxy hops (true is one), or the proxies' addresses and CIDR ranges. */
	trustProxy: Type.Union([Type.Boolean(), Type.Integer({ minimum: 2 }), Type.Array(Type.String())]),
	locale: LocaleSchema,
	/** Canonical IANA zone name. */
	displayTimezone: Type.String(),
	nodeEnv: NodeEnvSchema,
	logLevel: LogLevelSchema,
	timers: TimersSchema,
	outbox: OutboxSchema,
	uploads: UploadsSchema,
	retention: RetentionSchema,
	/** Absent: the limits of SPEC 4.5; a key present overrides that one limit. */
	rateLimits: Type.Optional(RateLimitsSchema),
	/** Absent: the quotas of `core/quotas.ts`; a key present overrides that one quota. */
	quotas: Type.Optional(QuotasSchema),
	/** A web session unused this long expires (file key `session.idle`, default 180 days). */
	sessionIdleMs: Type.Optional(Type.Integer({ minimum: 1 })),
	/** Absent: the SLA clock runs around the clock. */
	businessHours: Type.Optional(BusinessHoursSchema),
	texts: TextsSchema,
	/** The widget's text overrides, handed to the browser with the script. */
	widgetTexts: WidgetTextsSchema,
	/** Bearer token for `GET /metrics`; absent: `/metrics` is off (404). */
	metricsToken: Type.Optional(Type.String()),
	/** Serve the demo page at `/` (SPEC 4.6). */
	demoPage: Type.Boolean(),
	/**
	 * How long a web message that would be stored alone may wait for others while visitors write
	 * often (README "accept batches"); 0: never.
	 */
	acceptLingerMs: Type.Integer({ minimum: 0, maximum: 1000 }),
});
export type Config = Static<typeof ConfigSchema>;

/** The environment as the process sees it; values may be missing. */
export type Env = Record<string, string | undefined>;

export type LoadConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * Builds the config from an environment and the optional CONFIG_FILE, without side effects
 * beyond reading that file through `readText`. Every problem is reported, one line each, naming
 * the variable or the file key: `PORT: must be an integer from 0 to 65535 (got "abc")`,
 * `CONFIG_FILE sla.reminders[1]: must be …`.
 *
 * Values are trimmed, and an empty value counts as unset, as `FOO=` in a compose or .env file
 * usually means "not configured".
 *
 * @example
 * const result = loadConfig({ PORT: "0", CONFIG_FILE: "timers.json" });
 * if (result.ok) result.config.timers.slaReminders; // [600000, 1800000, 7200000]
 */
export function loadConfig(
	env: Env,
	readText: (path: string) => string = (path) => readFileSync(path, "utf8"),
): LoadConfigResult {
	const errors: string[] = [];
	const rawValue = (name: string): string | undefined => {
		const value = env[name]?.trim();
		return value === "" ? undefined : value;
	};
	const read = <T>(name: string, parse: Parser<T>): T | undefined => {
		const value = rawValue(name);
		if (value === undefined) return undefined;
		const parsed = parse(value);
		if (parsed.ok) return parsed.value;
		errors.push(`${name}: ${parsed.message}`);
		return undefined;
	};
	const requireSet = (name: string, because: string) => {
		if (rawValue(name) === undefined) errors.push(`${name}: required ${because}`);
	};

	const port = read("PORT", integerFrom(0, 65535)) ?? 3000;
	const telegramMode = read("TELEGRAM_MODE", oneOf(TelegramModeSchema)) ?? "polling";
	const fields = {
		botToken: read("BOT_TOKEN", botToken),
		supportGroupId: read("SUPPORT_GROUP_ID", supergroupId),
		telegramApiUrl: read("TELEGRAM_API_URL", baseUrl) ?? "https://api.telegram.org",
		telegramMode,
		telegramWebhookUrl: read("TELEGRAM_WEBHOOK_URL", httpUrl),
		telegramWebhookSecret: read("TELEGRAM_WEBHOOK_SECRET", webhookSecret),
		databaseUrl: read("DATABASE_URL", postgresUrl),
		dataDir: read("DATA_DIR", text) ?? "./data",
		port,
		host: read("HOST", text) ?? "0.0.0.0",
		publicUrl: read("PUBLIC_URL", baseUrl) ?? `http://localhost:${port}`,
		allowedOrigins: read("ALLOWED_ORIGINS", allowedOrigins) ?? [],
		appSecret: read("APP_SECRET", secret(32)),
		trustProxy: read("TRUST_PROXY", trustProxy) ?? false,
		locale: read("LOCALE", oneOf(LocaleSchema)) ?? "en",
		displayTimezone: read("DISPLAY_TIMEZONE", timeZone) ?? "UTC",
		nodeEnv: read("NODE_ENV", oneOf(NodeEnvSchema)) ?? "development",
		logLevel: read("LOG_LEVEL", oneOf(LogLevelSchema)) ?? "info",
		metricsToken: read("METRICS_TOKEN", secret(16)),
		acceptLingerMs: read("ACCEPT_LINGER_MS", integerFrom(0, 1000)) ?? DEFAULT_ACCEPT_LINGER_MS,
	};
	const demoPage = read("DEMO_PAGE", boolean) ?? fields.nodeEnv !== "production";

	// Decided on the raw values, so a malformed token still asks for its group instead of
	// hiding that second problem until the next start.
	if (rawValue("BOT_TOKEN") !== undefined) requireSet("SUPPORT_GROUP_ID", "when BOT_TOKEN is set");
	if (telegramMode === "webhook") {
		requireSet("TELEGRAM_WEBHOOK_URL", "when TELEGRAM_MODE is webhook");
		requireSet("TELEGRAM_WEBHOOK_SECRET", "when TELEGRAM_MODE is webhook");
	}

	// A production deployment embeds the widget on real sites only: https, no single-label hosts.
	if (fields.nodeEnv === "production") read("ALLOWED_ORIGINS", productionOrigins);

	const file = loadConfigFile(read("CONFIG_FILE", text), readText);
	if (!file.ok) errors.push(...file.errors);

	if (errors.length > 0 || !file.ok) return { ok: false, errors };
	return { ok: true, config: { ...fields, demoPage, ...file.settings } };
}

/**
 * Loads the config for the composition root; on any problem prints each line to stderr as
 * `config error: <line>` and exits with status 1, since nothing can run on a broken config.
 *
 * @example const config = readConfigOrExit(process.env);
 */
export function readConfigOrExit(env: Env, readText?: (path: string) => string): Config {
	const result = loadConfig(env, readText);
	if (result.ok) return result.config;
	process.stderr.write(result.errors.map((line) => `config error: ${line}\n`).join(""));
	process.exit(1);
}
