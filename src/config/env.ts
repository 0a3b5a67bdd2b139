/**
 * The environment: one schema keyed by the config field each variable sets, the variable being
 * the field's name in upper snake case (`telegramApiUrl` is TELEGRAM_API_URL), with the defaults
 * as they would be written, and the rules that span several variables.
 */
import { type StringOptions, type TString, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { LOCALES } from "./file.ts";
import * as values from "./formats.ts";

const { format, quote } = values;

/** The environment as the process sees it; values may be missing. */
export type Env = Record<string, string | undefined>;

// What a variable must be, by format: the phrase after its name in an error line.
const MUST = {
	"bot-token":
		'must look like "123456789:AAH…": the bot id, a colon and the key, as BotFather gives it',
	supergroups:
		"must be the id of a forum supergroup: a negative integer starting with -100, e.g. -1001234567890, or several such ids separated by commas (the first is the default group)",
	"base-url":
		"must be an http:// or https:// URL without a query or fragment (paths are appended to it)",
	"http-url": "must be an http:// or https:// URL",
	"webhook-secret": "must be 32 to 256 characters of A-Z, a-z, 0-9, _ and -",
	"postgres-url": "must be a postgres:// or postgresql:// URL",
	port: "must be an integer from 0 to 65535",
	origins: 'must be comma-separated domains or URLs, e.g. "example.com, https://shop.example.org"',
	"trust-proxy":
		'must be true, false, 1, 0, yes or no, a number of proxies up to 16, or the proxies\' addresses and CIDR ranges such as "10.0.0.0/8, ::1"',
	"time-zone": 'must be an IANA time zone such as "UTC" or "Europe/Moscow"',
	boolean: "must be true, false, 1, 0, yes or no",
} satisfies Partial<Record<Parameters<typeof format>[0], string>>;

// A `secret` never appears in an error line (they end up in logs); a `caseless` value is read
// lower-cased ("INFO" is info).
type Options = StringOptions & { secret?: true; caseless?: true };
const text = (kind: keyof typeof MUST, options: Options = {}) =>
	Type.String({ format: format(kind), description: MUST[kind], ...options });
const decoded = <T>(schema: TString, decode: (text: string) => T) =>
	Type.Transform(schema).Decode(decode).Encode(String);
const oneOf = <const T extends string>(choices: readonly T[], fallback: T) =>
	Type.Enum(Object.fromEntries(choices.map((choice) => [choice, choice])) as Record<T, T>, {
		description: `must be one of ${choices.join(", ")}`,
		caseless: true,
		default: fallback,
	});
const baseUrl = (options?: Options) =>
	decoded(text("base-url", options), (url) => url.replace(/\/+$/, ""));
const secret = (minLength: number) =>
	Type.String({
		minLength,
		secret: true,
		description: `must be at least ${minLength} characters long`,
	});

export const EnvSchema = Type.Object({
	/** Absent: the bot is disabled and Telegram work waits in the outbox. */
	botToken: Type.Optional(text("bot-token", { secret: true })),
	/** The support groups, the default one first. */
	supportGroupId: Type.Optional(decoded(text("supergroups"), values.supergroups)),
	/** Bot API root without a trailing slash. */
	telegramApiUrl: baseUrl({ default: "https://api.telegram.org" }),
	telegramMode: oneOf(["polling", "webhook"], "polling"),
	telegramWebhookUrl: Type.Optional(text("http-url")),
	telegramWebhookSecret: Type.Optional(text("webhook-secret", { secret: true })),
	/** Absent: embedded PGlite in dataDir. */
	databaseUrl: Type.Optional(text("postgres-url", { secret: true })),
	dataDir: Type.String({ default: "./data" }),
	/** 0: any free port. */
	port: decoded(text("port", { default: "3000" }), Number),
	host: Type.String({ default: "0.0.0.0" }),
	/** Absent: http://localhost:<port>. */
	publicUrl: Type.Optional(baseUrl()),
	/** Lower-cased hostnames, IDN kept as written. */
	allowedOrigins: decoded(text("origins", { default: "" }), values.originHosts),
	/** Absent: generated into DATA_DIR on the embedded database, refused with DATABASE_URL. */
	appSecret: Type.Optional(secret(32)),
	/** The key sites sign their visitors' identity with; absent: no identity is accepted. */
	identitySecret: Type.Optional(secret(32)),
	trustProxy: decoded(
		text("trust-proxy", { default: "false", caseless: true }),
		(proxies) => values.trustedProxies(proxies) ?? false,
	),
	locale: oneOf(LOCALES, "en"),
	displayTimezone: decoded(text("time-zone", { default: "UTC" }), values.canonicalZone),
	nodeEnv: oneOf(["development", "production", "test"], "development"),
	logLevel: oneOf(["debug", "info", "warn", "error"], "info"),
	/** Bearer token for `GET /metrics`; absent: `/metrics` is off (404). */
	metricsToken: Type.Optional(secret(16)),
	/** The demo page at `/`; absent: everywhere but in production. */
	demoPage: Type.Optional(decoded(text("boolean", { caseless: true }), values.isTrue)),
	configFile: Type.Optional(Type.String()),
});

const variable = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();

/** Rules across variables, on the raw values, so that one bad value hides no other problem. */
function crossFieldErrors(raw: Record<string, string | undefined>): string[] {
	const webhook = raw.telegramMode === "webhook" ? "when TELEGRAM_MODE is webhook" : undefined;
	// A production desk embeds the widget on real sites only.
	const refused =
		raw.nodeEnv === "production" ? values.notForProduction(raw.allowedOrigins ?? "") : [];
	return [
		raw.botToken && !raw.supportGroupId && "SUPPORT_GROUP_ID: required when BOT_TOKEN is set",
		webhook && !raw.telegramWebhookUrl && `TELEGRAM_WEBHOOK_URL: required ${webhook}`,
		webhook && !raw.telegramWebhookSecret && `TELEGRAM_WEBHOOK_SECRET: required ${webhook}`,
		refused.length > 0 &&
			`ALLOWED_ORIGINS: in production must be https sites with a full domain name, e.g. "shop.example.com" or "https://example.org" (refused: ${refused.map(quote).join(", ")})`,
	].filter((line): line is string => !!line);
}

// Why a secret's file could not be read, in the words of `ls`, not of the syscall.
const UNREADABLE: Record<string, string> = {
	ENOENT: "no such file",
	EACCES: "permission denied",
	EISDIR: "it is a directory",
};

/**
 * Every secret may be given as a file instead, `<NAME>_FILE`, as Docker secrets and systemd
 * credentials hand them over: the file's content, trimmed, becomes the variable. Setting both is
 * refused rather than guessed at; the lines name the variables and the path, never the content.
 */
function secretsFromFiles(env: Env, readText: (path: string) => string) {
	const resolved: Env = { ...env };
	const errors: string[] = [];
	const fromFile = new Set<string>();
	for (const [field, schema] of Object.entries(EnvSchema.properties)) {
		if (!(schema as Options).secret) continue;
		const name = variable(field);
		const path = env[`${name}_FILE`]?.trim();
		if (!path) continue;
		if (env[name]?.trim()) {
			errors.push(`${name}: set either ${name} or ${name}_FILE, not both`);
			continue;
		}
		try {
			resolved[name] = readText(path).trim();
			fromFile.add(field);
			if (!resolved[name]) errors.push(`${name}_FILE: the file ${quote(path)} is empty`);
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code ?? "";
			errors.push(`${name}_FILE: cannot read ${quote(path)} (${UNREADABLE[code] ?? code})`);
		}
	}
	return { env: resolved, errors, fromFile };
}

/**
 * The config fields the environment sets, or one line per problem naming the variable. Values are
 * trimmed and an empty one counts as unset: `FOO=` in a compose or .env file means "not set".
 */
export function readEnvironment(environment: Env, readText: (path: string) => string) {
	const files = secretsFromFiles(environment, readText);
	const env = files.env;
	const given = (field: string) => env[variable(field)]?.trim() || undefined;
	const raw: Record<string, string | undefined> = {};
	for (const [field, schema] of Object.entries(EnvSchema.properties))
		raw[field] = (schema as Options).caseless ? given(field)?.toLowerCase() : given(field);
	const written = Value.Default(EnvSchema, { ...raw });
	const lines = new Map<string, string>();
	for (const { path, schema } of Value.Errors(EnvSchema, written)) {
		const field = path.slice(1);
		const value = given(field) ?? "";
		const shown = (schema as Options).secret
			? `got ${value.length} characters, value not shown`
			: field === "allowedOrigins"
				? `not a domain: ${values.notDomains(value).map(quote).join(", ")}`
				: `got ${quote(value)}`;
		const name = files.fromFile.has(field)
			? `${variable(field)} (from ${variable(field)}_FILE)`
			: variable(field);
		if (!lines.has(field)) lines.set(field, `${name}: ${schema.description} (${shown})`);
	}
	const errors = [...files.errors, ...lines.values(), ...crossFieldErrors(raw)];
	if (errors.length > 0) return { ok: false as const, errors, configFile: raw.configFile };
	const { configFile, ...fields } = Value.Decode(EnvSchema, written);
	const { supportGroupId: groups = [], ...rest } = fields;
	const settings = {
		...rest,
		/** The default support group (the first of SUPPORT_GROUP_ID). */
		supportGroupId: groups[0],
		/** Every support group of SUPPORT_GROUP_ID, the default first; empty when unset. */
		supportGroupIds: groups,
		publicUrl: fields.publicUrl ?? `http://localhost:${fields.port}`,
		demoPage: fields.demoPage ?? fields.nodeEnv !== "production",
	};
	return { ok: true as const, settings, configFile };
}
