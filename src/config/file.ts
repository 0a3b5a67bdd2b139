/**
 * The optional JSON config file: its schema as written, with every default in it, and the
 * settings it gives the config once its durations are decoded to milliseconds.
 */
import {
	type NumberOptions,
	type Static,
	type StaticDecode,
	type TProperties,
	type TSchema,
	Type,
} from "@sinclair/typebox";
import { Value, type ValueError, ValueErrorType } from "@sinclair/typebox/value";
import type { BusinessHours, Weekday } from "../core/business-hours.ts";
import { CannedPreloadSchema } from "../core/canned-replies.ts";
import { QuotasSchema } from "../core/quotas.ts";
import { type RateKind, rateLimits } from "../core/rate-limiter.ts";
import { en, type TextKey } from "../i18n/en.ts";
import type { Locale } from "../i18n/texts.ts";
import { type WidgetTextKey, widgetTexts } from "../widget/texts.ts";
import { format, measure, parseDuration, quote } from "./formats.ts";

/** The shipped locales: the values of LOCALE and the keys of `texts`. */
export const LOCALES = ["en", "ru"] as const satisfies Locale[];

// Every `description` completes "must be …" in an error line.
const object = <T extends TProperties>(description: string, properties: T, fallback?: object) =>
	Type.Object(properties, { additionalProperties: false, description, default: fallback });
const section = <T extends TProperties>(properties: T) => object("an object", properties, {});
const DURATION = { format: format("duration"), description: 'a duration like "10m"' };
const duration = (fallback?: string) =>
	Type.Transform(Type.String({ ...DURATION, default: fallback }))
		.Decode(parseDuration)
		.Encode((ms) => `${ms}ms`);
const count = (description: string, options: NumberOptions) =>
	Type.Number({ description, ...options });
const rate = (fallback: number) =>
	count("a number greater than 0", { exclusiveMinimum: 0, default: fallback });
const bytes = (fallback: number) =>
	count("a whole number of bytes, at least 1", { minimum: 1, multipleOf: 1, default: fallback });
const perMinute = count("a whole number of requests per minute, at least 1", {
	minimum: 1,
	multipleOf: 1,
});
const keyed = <K extends string, T extends TSchema>(keys: readonly K[], schema: T) =>
	// Object.fromEntries forgets the key names; the cast restores them.
	Object.fromEntries(keys.map((key) => [key, schema])) as Record<K, T>;

// Keys from the catalogues, so a text added there is overridable at once and a typo is an error.
const text = Type.String({ description: "a string" });
const botTexts = keyed(Object.keys(en) as TextKey[], Type.Optional(text));
const widget = keyed(Object.keys(widgetTexts.en) as WidgetTextKey[], Type.Optional(text));
const widgetOverrides = Type.Optional(object("an object of widget text overrides", widget, {}));
const localeTexts = object(
	"an object of text overrides",
	{ ...botTexts, widget: widgetOverrides },
	{},
);

const clockTime = Type.String({
	pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$",
	description: 'a time of day like "09:00"',
});
const weekdays: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const openHours = Type.Tuple([clockTime, clockTime], {
	description: 'a pair of times like ["09:00", "18:00"]',
});
const week = keyed(weekdays, Type.Optional(openHours));

/** The file as written: every key optional (the defaults fill the gaps), unknown keys refused. */
export const FileSchema = object("a JSON object", {
	/** SLA reminders: offsets from the oldest unanswered customer message, increasing. */
	sla: section({
		reminders: Type.Array(duration(), {
			minItems: 1,
			maxItems: 10,
			default: ["10m", "30m", "2h"],
			description: 'a list of 1 to 10 durations, e.g. ["10m", "30m", "2h"]',
		}),
	}),
	waiting: section({ reminder: duration("24h"), autoclose: duration("7d") }),
	linkToken: section({ ttl: duration("1h") }),
	ws: section({ ping: duration("30s"), idle: duration("5m") }),
	/** The getUpdates long-poll timeout. */
	telegram: section({ pollTimeout: duration("25s") }),
	/** Flood budgets; the group window is a minute unless a test scales it down. */
	outbox: section({
		groupPerMinute: rate(20),
		groupWindow: duration("1m"),
		privatePerSecond: rate(1),
		globalPerSecond: rate(30),
		/** How long a claimed item stays leased to one instance (renewed while in flight). */
		lease: duration("60s"),
	}),
	/**
	 * The card's pin: a pin is a write into the group like any other, so by default it waits
	 * until the group's budget has room and no customer's message waits for it.
	 */
	card: section({
		pin: Type.Union([Type.Literal("when-idle"), Type.Literal("always"), Type.Literal("never")], {
			default: "when-idle",
			description: '"when-idle", "always" or "never"',
		}),
	}),
	/** Which support group a new customer joins: the first rule that matches, else the least busy. */
	groups: section({
		routes: Type.Array(
			object("an object with group and locale, origin or channel", {
				group: Type.Integer({
					maximum: -1_000_000_000_000,
					description: "the id of a support group, e.g. -1001234567890",
				}),
				locale: Type.Optional(Type.String({ minLength: 1, description: 'a locale like "ru"' })),
				origin: Type.Optional(
					Type.String({ minLength: 1, description: 'a site domain like "shop.example"' }),
				),
				channel: Type.Optional(
					Type.Union([Type.Literal("web"), Type.Literal("telegram")], {
						description: '"web" or "telegram"',
					}),
				),
			}),
			{ default: [], description: "a list of routing rules" },
		),
	}),
	uploads: section({ imageMaxBytes: bytes(10 * 2 ** 20), documentMaxBytes: bytes(20 * 2 ** 20) }),
	/** Validity of signed media URLs. */
	media: section({ urlTtl: duration("24h") }),
	/** Bookkeeping rows and media bytes; media absent: kept forever. */
	retention: section({
		bookkeeping: duration("7d"),
		media: Type.Optional(duration()),
		interval: duration("1h"),
	}),
	/** Per-instance limits per minute; a key left out keeps the limiter's own. */
	rateLimits: Type.Optional(
		object(
			"an object of rate limits per minute",
			keyed(Object.keys(rateLimits) as RateKind[], Type.Optional(perMinute)),
		),
	),
	/** A key left out keeps the quota of `core/quotas.ts`. */
	quotas: Type.Optional(QuotasSchema),
	/** A web session unused this long expires. */
	session: section({ idle: duration("180d") }),
	/** Absent: the SLA clock runs around the clock. */
	businessHours: Type.Optional(
		object("an object with timeZone and week", {
			timeZone: Type.String({
				format: format("time-zone"),
				description: 'an IANA time zone such as "Europe/Berlin"',
			}),
			week: object("an object of weekdays (mon … sun)", week),
		}),
	),
	/** The away message outside business hours; absent: on exactly when business hours are set. */
	away: section({
		enabled: Type.Optional(Type.Boolean({ description: "true or false" })),
	}),
	/** Who owns a ticket nobody took: the first operator to answer it, or nobody. */
	assignment: section({
		auto: Type.Union([Type.Literal("first-reply"), Type.Literal("off")], {
			default: "first-reply",
			description: '"first-reply" or "off"',
		}),
	}),
	/** Canned replies loaded at start (`/r`): `{"<name>": {"en": "…", "ru": "…"}}`. */
	canned: Type.Optional(CannedPreloadSchema),
	texts: object("an object with the locales en and ru", { en: localeTexts, ru: localeTexts }, {}),
});

/** What the file sets, in the shape the rest of the service reads. */
function settingsOf(file: StaticDecode<typeof FileSchema>) {
	const { sla, waiting, ws, texts } = file;
	const { groupWindow: groupWindowMs, lease: leaseMs, ...budgets } = file.outbox;
	const { bookkeeping, media: mediaMs, interval: intervalMs } = file.retention;
	// The widget's overrides travel to the browser with its script; the bot's stay here.
	const { widget: enWidget = {}, ...enBot } = texts.en;
	const { widget: ruWidget = {}, ...ruBot } = texts.ru;
	return {
		timers: {
			slaReminders: sla.reminders,
			waitingReminder: waiting.reminder,
			waitingAutoclose: waiting.autoclose,
			linkTokenTtl: file.linkToken.ttl,
			wsPing: ws.ping,
			wsIdle: ws.idle,
			pollTimeout: file.telegram.pollTimeout,
			mediaUrlTtl: file.media.urlTtl,
		},
		outbox: { ...budgets, groupWindowMs, leaseMs },
		card: file.card,
		groupRoutes: file.groups.routes,
		uploads: file.uploads,
		retention: { bookkeepingMs: bookkeeping, intervalMs, ...(mediaMs && { mediaMs }) },
		...(file.rateLimits && { rateLimits: file.rateLimits }),
		...(file.quotas && { quotas: file.quotas }),
		sessionIdleMs: file.session.idle,
		...(file.businessHours && { businessHours: file.businessHours satisfies BusinessHours }),
		away: file.away.enabled ?? file.businessHours !== undefined,
		assignment: file.assignment,
		...(file.canned && { canned: file.canned }),
		texts: { en: enBot, ru: ruBot },
		widgetTexts: { en: enWidget, ru: ruWidget },
	};
}
export type FileSettings = ReturnType<typeof settingsOf>;

/**
 * Rules across keys, on the file as written with its defaults, so a bad value elsewhere hides
 * none of them; a value the schema refused is skipped, its line is already there.
 */
function crossKeyErrors(file: Partial<Static<typeof FileSchema>>): string[] {
	const { sla, waiting, ws, telegram } = file;
	const ms = (text: unknown) => (typeof text === "string" ? measure(text) : undefined);
	const after = (later: unknown, earlier: unknown) => Number(ms(later)) <= Number(ms(earlier));
	const reminders: unknown[] = Array.isArray(sla?.reminders) ? sla.reminders : [];
	return [
		...reminders.map(
			(text, index) =>
				after(text, reminders[index - 1]) &&
				`sla.reminders[${index}]: must be longer than sla.reminders[${index - 1}], reminders are offsets in increasing order (got ${quote(text)} after ${quote(reminders[index - 1])})`,
		),
		// The customer is reminded before the ticket closes, otherwise the reminder never fires.
		after(waiting?.autoclose, waiting?.reminder) &&
			`waiting.autoclose: must be longer than waiting.reminder (${quote(waiting?.autoclose)} is not longer than ${quote(waiting?.reminder)})`,
		// The client's pong to a ping is what keeps a quiet but healthy socket from the idle cut-off.
		after(ws?.idle, ws?.ping) &&
			`ws.ping: must be shorter than ws.idle, or quiet sockets are cut off before they are pinged (${quote(ws?.ping)} is not shorter than ${quote(ws?.idle)})`,
		Number(ms(telegram?.pollTimeout)) % 1_000 > 0 &&
			`telegram.pollTimeout: must be whole seconds, the Bot API takes the long-poll timeout in seconds (got ${quote(telegram?.pollTimeout)})`,
	].flatMap((line) => (line ? [`CONFIG_FILE ${line}`] : []));
}

/** One line for one schema error: `CONFIG_FILE sla.reminders[1]: must be …`. */
function line({ type, path, schema, value }: ValueError): string {
	// "/sla/reminders/1" as people write it: "sla.reminders[1]".
	const key = path
		.replace(/\/(\d+)(?=\/|$)/g, "[$1]")
		.replaceAll("/", ".")
		.slice(1);
	const problem =
		schema.format === format("duration") && typeof value === "string" ? measure(value) : undefined;
	if (type === ValueErrorType.ObjectAdditionalProperties) {
		// A record (`canned`) has no list of keys, only a rule for them.
		if (!schema.properties) return `CONFIG_FILE ${key}: unknown key (${schema.description})`;
		const known = Object.keys(schema.properties);
		// Listing hundreds of text keys would drown the line; the catalogue is the reference.
		return `CONFIG_FILE ${key}: unknown key (${known.length <= 24 ? `allowed: ${known.join(", ")}` : "not a key of the text catalogue"})`;
	}
	const shown = value === undefined ? "nothing" : quote(value);
	const message =
		typeof problem === "string"
			? problem
			: `must be ${schema.description} (got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown})`;
	return `CONFIG_FILE${key ? ` ${key}` : ""}: ${message}`;
}

/** Reads, checks and decodes the config file at `path`; without one, the defaults. */
export function readConfigFile(path: string | undefined, readText: (path: string) => string) {
	let json: unknown = {};
	let doing = `cannot read ${quote(path)}`;
	try {
		if (path !== undefined) {
			const content = readText(path);
			doing = `${quote(path)} is not valid JSON`;
			// Editors on Windows like to start UTF-8 files with a byte order mark.
			json = JSON.parse(content.replace(/^\uFEFF/, ""));
		}
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		return { ok: false as const, errors: [`CONFIG_FILE: ${doing}: ${reason}`] };
	}
	const file = Value.Default(FileSchema, json);
	const errors = [...new Set([...Value.Errors(FileSchema, file)].map(line))];
	if (file !== null && typeof file === "object") errors.push(...crossKeyErrors(file));
	if (errors.length > 0) return { ok: false as const, errors };
	return { ok: true as const, settings: settingsOf(Value.Decode(FileSchema, file)) };
}
