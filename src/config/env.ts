/**
 * The environment: one schema keyed by the config field each variable sets, the variable being
 * the field's name in upper snake case (`telegramApiUrl` is TELEGRAM_API_URL), with the defaults
 * as they would be written, and the rules that span several variables.
 */
import {
	type StringOptions,
	type TLiteral,
	type TString,
	type TUnion,
	Type,
} from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { LOCALES } from "./file.ts";
import * as values from "./formats.ts";

const { VALUES, quote } = values;

/** The environment as the process sees it; values may be missing. */
export type Env = Record<string, string | undefined>;

// A `secret` never appears in an error line (those end up in logs); a `caseless` value is read
// lower-cased ("INFO" is info).
type Options = StringOptions & { secret?: true; caseless?: true };
const text = (options: Options) => Type.String(options);
const decoded = <T>(schema: TString, decode: (text: string) => T) =>
	Type.Transform(schema).Decode(decode).Encode(String);
const oneOf = <const T extends string>(choices: readonly T[], fallback: T) =>
	Type.Enum(Object.fromEntries(choices.map((choice) => [choice, choice])) as Record<T, T>, {
		description: `must be one of ${choices.join(", ")}`,
		caseless: true,
		default: fallback,
	});
const baseUrl = (options: Options = {}) =>
	decoded(text({ ...VALUES.baseUrl, ...options }), (url) => url.replace(/\/+$/, ""));
const secret = (minLength: number) =>
	text({ minLength, secret: true, description: `must be at least ${minLength} characters long` });

export const EnvSchema = Type.Object({
	/** Absent: the bot is disabled and Telegram work waits in the outbox. */
	botToken: Type.Optional(text({ ...VALUES.botToken, secret: true })),
	supportGroupId: Type.Optional(decoded(text(VALUES.supergroup), Number)),
	/** Bot API root without a trailing slash. */
	telegramApiUrl: baseUrl({ default: "https://api.telegram.org" }),
	telegramMode: oneOf(["polling", "webhook"], "polling"),
	telegramWebhookUrl: Type.Optional(text(VALUES.httpUrl)),
	telegramWebhookSecret: Type.Optional(text({ ...VALUES.webhookSecret, secret: true })),
	/** Absent: embedded PGlite in dataDir. */
	databaseUrl: Type.Optional(text({ ...VALUES.postgresUrl, secret: true })),
	dataDir: text({ default: "./data" }),
	/** 0: any free port. */
	port: decoded(text({ ...VALUES.port, default: "3000" }), Number),
	host: text({ default: "0.0.0.0" }),
	/** Absent: http://localhost:<port>. */
	publicUrl: Type.Optional(baseUrl()),
	/** Lower-cased hostnames, IDN kept as written. */
	allowedOrigins: decoded(text({ ...VALUES.origins, default: "" }), values.originHosts),
	/** Absent: generated once and stored in the database. */
	appSecret: Type.Optional(secret(32)),
	trustProxy: decoded(
		text({ ...VALUES.trustProxy, default: "false", caseless: true }),
		(proxies) => values.trustedProxies(proxies) ?? false,
	),
	locale: oneOf(LOCALES, "en"),
	displayTimezone: decoded(
		text({ ...VALUES.timeZone, default: "UTC" }),
		(zone) => values.canonicalZone(zone) ?? zone,
	),
	nodeEnv: oneOf(["development", "production", "test"], "development"),
	logLevel: oneOf(["debug", "info", "warn", "error"], "info"),
	/** Bearer token for `GET /metrics`; absent: `/metrics` is off (404). */
	metricsToken: Type.Optional(secret(16)),
	/** The demo page at `/`; absent: everywhere but in production. */
	demoPage: Type.Optional(decoded(text({ ...VALUES.boolean, caseless: true }), values.isTrue)),
	configFile: Type.Optional(text({})),
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

/**
 * The config fields the environment sets, or one line per problem naming the variable. Values are
 * trimmed and an empty one counts as unset: `FOO=` in a compose or .env file means "not set".
 */
export function readEnvironment(env: Env) {
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
		if (!lines.has(field)) lines.set(field, `${variable(field)}: ${schema.description} (${shown})`);
	}
	const errors = [...lines.values(), ...crossFieldErrors(raw)];
	if (errors.length > 0) return { ok: false as const, errors, configFile: raw.configFile };
	const { configFile, ...fields } = Value.Decode(EnvSchema, written);
	const settings = {
		...fields,
		publicUrl: fields.publicUrl ?? `http://localhost:${fields.port}`,
		demoPage: fields.demoPage ?? fields.nodeEnv !== "production",
	};
	return { ok: true as const, settings, configFile };
}
