/**
 * The optional JSON config file (SPEC 1.2): its schema, and turning its contents into the timers,
 * delivery budgets, upload limits, rate limits and text overrides of the config, with every
 * default applied.
 */
import { type Static, type TOptional, type TSchema, type TString, Type } from "@sinclair/typebox";
import { Value, type ValueError, ValueErrorType } from "@sinclair/typebox/value";
import { type QuotaOverrides, QuotasSchema } from "../core/quotas.ts";
import { type RateKind, rateLimits } from "../core/rate-limiter.ts";
import { en, type TextKey } from "../i18n/en.ts";
import { type WidgetTextKey, widgetTexts } from "../widget/texts.ts";
import { checkDuration, DURATION_PATTERN } from "./duration.ts";

// Every schema carries a `description` written to complete "must be …" in an error line.
const strict = (description: string) => ({ additionalProperties: false, description }) as const;

const Duration = Type.String({ pattern: DURATION_PATTERN, description: 'a duration like "10m"' });
const Rate = Type.Number({ exclusiveMinimum: 0, description: "a number greater than 0" });
const Bytes = Type.Integer({ minimum: 1, description: "a whole number of bytes, at least 1" });
const PerMinute = Type.Integer({
	minimum: 1,
	description: "a whole number of requests per minute, at least 1",
});

type TextOverrideProperties = { [K in TextKey]: TOptional<TString> };

/**
 * Overrides of user-visible texts for one locale. The keys come from the English catalogue, so a
 * text added there becomes overridable without touching this file, and a misspelt key is an error.
 */
export const TextOverridesSchema = Type.Object(
	// Object.fromEntries forgets the key names; the mapped type above restores them.
	Object.fromEntries(
		Object.keys(en).map((key) => [key, Type.Optional(Type.String({ description: "a string" }))]),
	) as TextOverrideProperties,
	strict("an object of text overrides"),
);
export type TextOverrides = Static<typeof TextOverridesSchema>;

type WidgetTextOverrideProperties = { [K in WidgetTextKey]: TOptional<TString> };

/** Overrides of the widget's texts for one locale; keys from the widget's English catalogue. */
export const WidgetTextOverridesSchema = Type.Object(
	Object.fromEntries(
		Object.keys(widgetTexts.en).map((key) => [
			key,
			Type.Optional(Type.String({ description: "a string" })),
		]),
	) as WidgetTextOverrideProperties,
	strict("an object of widget text overrides"),
);

/** A locale's overrides as written in the file: the bot's keys, and the widget's under `widget`. */
const FileTextOverridesSchema = Type.Object(
	{ ...TextOverridesSchema.properties, widget: Type.Optional(WidgetTextOverridesSchema) },
	strict("an object of text overrides"),
);

/** Text overrides per shipped locale; its keys are also the accepted values of LOCALE. */
export const TextsSchema = Type.Object({ en: TextOverridesSchema, ru: TextOverridesSchema });
export const WidgetTextsSchema = Type.Object({
	en: WidgetTextOverridesSchema,
	ru: WidgetTextOverridesSchema,
});

/** Timers in milliseconds. */
export const TimersSchema = Type.Object({
	/** SLA reminder offsets from the oldest unanswered customer message, increasing. */
	slaReminders: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10 }),
	waitingReminder: Type.Integer({ minimum: 1 }),
	waitingAutoclose: Type.Integer({ minimum: 1 }),
	linkTokenTtl: Type.Integer({ minimum: 1 }),
	wsPing: Type.Integer({ minimum: 1 }),
	wsIdle: Type.Integer({ minimum: 1 }),
	/** getUpdates long-poll timeout; whole seconds, since the Bot API takes seconds. */
	pollTimeout: Type.Integer({ minimum: 1_000, multipleOf: 1_000 }),
	/** Validity of signed media URLs. */
	mediaUrlTtl: Type.Integer({ minimum: 1 }),
});

/** Flood-control budgets of the outbox worker (SPEC 3.6). */
export const OutboxSchema = Type.Object({
	/** Calls into the support group per `groupWindowMs` (Telegram allows about 20 a minute). */
	groupPerMinute: Type.Number({ exclusiveMinimum: 0 }),
	/** The group budget's window; a minute unless a test scales it down. */
	groupWindowMs: Type.Integer({ minimum: 1 }),
	privatePerSecond: Type.Number({ exclusiveMinimum: 0 }),
	globalPerSecond: Type.Number({ exclusiveMinimum: 0 }),
	/** How long a claimed item stays leased to one instance (renewed while it is in flight). */
	leaseMs: Type.Optional(Type.Integer({ minimum: 1 })),
});

const ClockTime = Type.String({
	pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$",
	description: 'a time of day like "09:00"',
});
const OpenHours = Type.Tuple([ClockTime, ClockTime], {
	description: 'a pair of times like ["09:00", "18:00"]',
});
const weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof weekdays)[number];

/**
 * Optional business hours: the SLA clock runs only inside them. Days left out are closed; a pair
 * like ["09:00", "18:00"] is the open interval in `timeZone`.
 */
export const BusinessHoursSchema = Type.Object(
	{
		timeZone: Type.String({ description: "an IANA time zone such as Europe/Berlin" }),
		week: Type.Object(
			Object.fromEntries(weekdays.map((day) => [day, Type.Optional(OpenHours)])) as {
				[K in Weekday]: TOptional<typeof OpenHours>;
			},
			strict("an object of weekdays (mon … sun)"),
		),
	},
	strict("an object with timeZone and week"),
);
export type BusinessHours = Static<typeof BusinessHoursSchema>;

/** Retention of bookkeeping rows and media bytes (SPEC 1.5), in milliseconds. */
export const RetentionSchema = Type.Object({
	/** Processed update ids, delivered outbox items, used/expired link tokens, entry contexts. */
	bookkeepingMs: Type.Integer({ minimum: 1 }),
	/** Absent: media are kept forever. */
	mediaMs: Type.Optional(Type.Integer({ minimum: 1 })),
	/** How often the pruning runs (once per interval across all instances). */
	intervalMs: Type.Integer({ minimum: 1 }),
});

/** Upload size limits in bytes (SPEC 4.2). */
export const UploadsSchema = Type.Object({
	imageMaxBytes: Type.Integer({ minimum: 1 }),
	documentMaxBytes: Type.Integer({ minimum: 1 }),
});

type RateLimitProperties = { [K in RateKind]: TOptional<typeof PerMinute> };

/**
 * Overrides of the per-instance rate limits (SPEC 4.5), per minute, for benchmarks and tests; the
 * keys are the limiter's kinds, so a new kind is overridable without touching this file.
 */
export const RateLimitsSchema = Type.Object(
	Object.fromEntries(
		Object.keys(rateLimits).map((kind) => [kind, Type.Optional(PerMinute)]),
	) as RateLimitProperties,
	strict("an object of rate limits per minute"),
);

/** What the config file controls, resolved. */
export type FileSettings = {
	timers: Static<typeof TimersSchema>;
	outbox: Static<typeof OutboxSchema>;
	uploads: Static<typeof UploadsSchema>;
	texts: Static<typeof TextsSchema>;
	widgetTexts: Static<typeof WidgetTextsSchema>;
	retention: Static<typeof RetentionSchema>;
	/** Only the limits the file sets; the limiter's defaults apply to the rest. */
	rateLimits?: Static<typeof RateLimitsSchema>;
	/** Only the quotas the file sets; `core/quotas.ts` has the defaults. */
	quotas?: QuotaOverrides;
	/** A web session unused this long is expired (401), milliseconds. */
	sessionIdleMs: number;
	businessHours?: BusinessHours;
};

/** The file as written: nested objects, every key optional, unknown keys rejected. */
export const ConfigFileSchema = Type.Object(
	{
		sla: Type.Optional(
			Type.Object(
				{
					reminders: Type.Optional(
						Type.Array(Duration, {
							minItems: 1,
							maxItems: 10,
							description: 'a list of 1 to 10 durations, e.g. ["10m", "30m", "2h"]',
						}),
					),
				},
				strict("an object"),
			),
		),
		waiting: Type.Optional(
			Type.Object(
				{ reminder: Type.Optional(Duration), autoclose: Type.Optional(Duration) },
				strict("an object"),
			),
		),
		linkToken: Type.Optional(Type.Object({ ttl: Type.Optional(Duration) }, strict("an object"))),
		ws: Type.Optional(
			Type.Object(
				{ ping: Type.Optional(Duration), idle: Type.Optional(Duration) },
				strict("an object"),
			),
		),
		telegram: Type.Optional(
			Type.Object({ pollTimeout: Type.Optional(Duration) }, strict("an object")),
		),
		outbox: Type.Optional(
			Type.Object(
				{
					groupPerMinute: Type.Optional(Rate),
					groupWindow: Type.Optional(Duration),
					privatePerSecond: Type.Optional(Rate),
					globalPerSecond: Type.Optional(Rate),
					lease: Type.Optional(Duration),
				},
				strict("an object"),
			),
		),
		uploads: Type.Optional(
			Type.Object(
				{ imageMaxBytes: Type.Optional(Bytes), documentMaxBytes: Type.Optional(Bytes) },
				strict("an object"),
			),
		),
		media: Type.Optional(Type.Object({ urlTtl: Type.Optional(Duration) }, strict("an object"))),
		retention: Type.Optional(
			Type.Object(
				{
					bookkeeping: Type.Optional(Duration),
					media: Type.Optional(Duration),
					interval: Type.Optional(Duration),
				},
				strict("an object"),
			),
		),
		rateLimits: Type.Optional(RateLimitsSchema),
		quotas: Type.Optional(QuotasSchema),
		session: Type.Optional(Type.Object({ idle: Type.Optional(Duration) }, strict("an object"))),
		businessHours: Type.Optional(BusinessHoursSchema),
		texts: Type.Optional(
			Type.Object(
				{
					en: Type.Optional(FileTextOverridesSchema),
					ru: Type.Optional(FileTextOverridesSchema),
				},
				strict("an object with the locales en and ru"),
			),
		),
	},
	strict("a JSON object"),
);
export type ConfigFile = Static<typeof ConfigFileSchema>;

const MB = 1024 * 1024;

/** Defaults of SPEC 1.2 and of the extensions, as they would be written in the file. */
const DEFAULTS = {
	slaReminders: ["10m", "30m", "2h"],
	waitingReminder: "24h",
	waitingAutoclose: "7d",
	linkTokenTtl: "1h",
	wsPing: "30s",
	wsIdle: "5m",
	pollTimeout: "25s",
	mediaUrlTtl: "24h",
	groupPerMinute: 20,
	privatePerSecond: 1,
	globalPerSecond: 30,
	imageMaxBytes: 10 * MB,
	documentMaxBytes: 20 * MB,
} as const;

/**
 * Reads, validates and resolves the config file at `path`, or the defaults when there is none.
 * Error lines look like `CONFIG_FILE sla.reminders[1]: must be …`.
 */
export function loadConfigFile(
	path: string | undefined,
	readText: (path: string) => string,
): { ok: true; settings: FileSettings } | { ok: false; errors: string[] } {
	let raw: unknown = {};
	if (path !== undefined) {
		let content: string;
		try {
			content = readText(path);
		} catch (error) {
			return {
				ok: false,
				errors: [`CONFIG_FILE: cannot read ${JSON.stringify(path)}: ${reason(error)}`],
			};
		}
		try {
			// Editors on Windows like to start UTF-8 files with a byte order mark.
			raw = JSON.parse(content.replace(/^\uFEFF/, ""));
		} catch (error) {
			return {
				ok: false,
				errors: [`CONFIG_FILE: ${JSON.stringify(path)} is not valid JSON: ${reason(error)}`],
			};
		}
	}

	const problems = [...Value.Errors(ConfigFileSchema, raw)];
	const errors = problems.map((problem) => fileLine(problem.path, raw, describe(problem)));
	// Values under a path with a schema error are already reported; resolve() skips them and still
	// checks the rest, so one run lists every problem.
	const badPaths = problems.map((problem) => problem.path);
	// A file that is not an object is already reported; read as {} it resolves to the defaults.
	const file = (raw !== null && typeof raw === "object" ? raw : {}) as ConfigFile;
	const settings = resolve(file, badPaths, errors);
	const unique = [...new Set(errors)];
	return unique.length > 0 ? { ok: false, errors: unique } : { ok: true, settings };
}

/** Applies defaults, converts durations and checks the rules that span several keys. */
function resolve(file: ConfigFile, badPaths: string[], errors: string[]): FileSettings {
	const usable = (pointer: string) =>
		!badPaths.some(
			(bad) => bad === pointer || bad.startsWith(`${pointer}/`) || pointer.startsWith(`${bad}/`),
		);
	const pick = <T>(pointer: string, value: T | undefined, fallback: T): T =>
		value !== undefined && usable(pointer) ? value : fallback;
	// The schema checked the shape of a duration; checkDuration adds zero and the upper bound.
	// NaN marks a reported failure: it is never used, since any error fails the whole config.
	const toMs = (pointer: string, text: string): number => {
		const checked = checkDuration(text);
		if (checked.ok) return checked.ms;
		errors.push(fileLine(pointer, file, checked.message));
		return Number.NaN;
	};
	const durations = {
		waitingReminder: pick("/waiting/reminder", file.waiting?.reminder, DEFAULTS.waitingReminder),
		waitingAutoclose: pick(
			"/waiting/autoclose",
			file.waiting?.autoclose,
			DEFAULTS.waitingAutoclose,
		),
		linkTokenTtl: pick("/linkToken/ttl", file.linkToken?.ttl, DEFAULTS.linkTokenTtl),
		wsPing: pick("/ws/ping", file.ws?.ping, DEFAULTS.wsPing),
		wsIdle: pick("/ws/idle", file.ws?.idle, DEFAULTS.wsIdle),
		pollTimeout: pick("/telegram/pollTimeout", file.telegram?.pollTimeout, DEFAULTS.pollTimeout),
		mediaUrlTtl: pick("/media/urlTtl", file.media?.urlTtl, DEFAULTS.mediaUrlTtl),
	};
	const timers = {
		slaReminders: [] as number[],
		waitingReminder: toMs("/waiting/reminder", durations.waitingReminder),
		waitingAutoclose: toMs("/waiting/autoclose", durations.waitingAutoclose),
		linkTokenTtl: toMs("/linkToken/ttl", durations.linkTokenTtl),
		wsPing: toMs("/ws/ping", durations.wsPing),
		wsIdle: toMs("/ws/idle", durations.wsIdle),
		pollTimeout: toMs("/telegram/pollTimeout", durations.pollTimeout),
		mediaUrlTtl: toMs("/media/urlTtl", durations.mediaUrlTtl),
	};

	// Items are checked one by one so a bad item does not hide a zero next to it.
	const listed = file.sla?.reminders;
	const listUsable = !badPaths.some(
		(bad) => bad === "/sla/reminders" || "/sla/reminders".startsWith(`${bad}/`),
	);
	const reminders: readonly unknown[] =
		Array.isArray(listed) && listUsable ? listed : DEFAULTS.slaReminders;
	reminders.forEach((text, index) => {
		const pointer = `/sla/reminders/${index}`;
		timers.slaReminders.push(
			typeof text === "string" && usable(pointer) ? toMs(pointer, text) : Number.NaN,
		);
		const previous = timers.slaReminders[index - 1];
		const current = timers.slaReminders[index];
		if (isKnown(previous) && isKnown(current) && !(current > previous)) {
			errors.push(
				`CONFIG_FILE sla.reminders[${index}]: must be longer than sla.reminders[${index - 1}], reminders are offsets in increasing order (got ${JSON.stringify(text)} after ${JSON.stringify(reminders[index - 1])})`,
			);
		}
	});

	const { waitingReminder, waitingAutoclose, wsPing, wsIdle, pollTimeout } = timers;
	// The customer is reminded before the ticket closes, otherwise the reminder never fires.
	if (
		isKnown(waitingReminder) &&
		isKnown(waitingAutoclose) &&
		waitingAutoclose <= waitingReminder
	) {
		errors.push(
			`CONFIG_FILE waiting.autoclose: must be longer than waiting.reminder (${JSON.stringify(durations.waitingAutoclose)} is not longer than ${JSON.stringify(durations.waitingReminder)})`,
		);
	}
	// The client's pong to a ping is what keeps a quiet but healthy socket from the idle cut-off.
	if (isKnown(wsPing) && isKnown(wsIdle) && wsPing >= wsIdle) {
		errors.push(
			`CONFIG_FILE ws.ping: must be shorter than ws.idle, or quiet sockets are cut off before they are pinged (${JSON.stringify(durations.wsPing)} is not shorter than ${JSON.stringify(durations.wsIdle)})`,
		);
	}
	if (isKnown(pollTimeout) && pollTimeout % 1_000 !== 0) {
		errors.push(
			`CONFIG_FILE telegram.pollTimeout: must be whole seconds, the Bot API takes the long-poll timeout in seconds (got ${JSON.stringify(durations.pollTimeout)})`,
		);
	}

	const limits = pick("/rateLimits", file.rateLimits, undefined);
	const quotas = pick("/quotas", file.quotas, undefined);
	const sessionIdleMs = toMs("/session/idle", pick("/session/idle", file.session?.idle, "180d"));
	// The widget's overrides travel to the browser; the bot's stay here.
	const botTexts = (locale: "en" | "ru"): TextOverrides => {
		const { widget: _widget, ...bot } = pick(`/texts/${locale}`, file.texts?.[locale], {});
		return bot;
	};
	const hours = pick("/businessHours", file.businessHours, undefined);
	if (hours && !isTimeZone(hours.timeZone))
		errors.push(
			`CONFIG_FILE businessHours.timeZone: must be an IANA time zone (got ${show(hours.timeZone)})`,
		);
	const groupWindow = pick("/outbox/groupWindow", file.outbox?.groupWindow, "1m");
	const lease = pick("/outbox/lease", file.outbox?.lease, "60s");
	const bookkeeping = pick("/retention/bookkeeping", file.retention?.bookkeeping, "7d");
	const mediaRetention = pick("/retention/media", file.retention?.media, undefined);
	const retentionInterval = pick("/retention/interval", file.retention?.interval, "1h");
	return {
		retention: {
			bookkeepingMs: toMs("/retention/bookkeeping", bookkeeping),
			...(mediaRetention !== undefined && {
				mediaMs: toMs("/retention/media", mediaRetention),
			}),
			intervalMs: toMs("/retention/interval", retentionInterval),
		},
		timers,
		...(limits && { rateLimits: { ...limits } }),
		...(quotas && { quotas: { ...quotas } }),
		sessionIdleMs,
		...(hours && { businessHours: hours }),
		outbox: {
			groupPerMinute: pick(
				"/outbox/groupPerMinute",
				file.outbox?.groupPerMinute,
				DEFAULTS.groupPerMinute,
			),
			groupWindowMs: toMs("/outbox/groupWindow", groupWindow),
			privatePerSecond: pick(
				"/outbox/privatePerSecond",
				file.outbox?.privatePerSecond,
				DEFAULTS.privatePerSecond,
			),
			globalPerSecond: pick(
				"/outbox/globalPerSecond",
				file.outbox?.globalPerSecond,
				DEFAULTS.globalPerSecond,
			),
			leaseMs: toMs("/outbox/lease", lease),
		},
		uploads: {
			imageMaxBytes: pick(
				"/uploads/imageMaxBytes",
				file.uploads?.imageMaxBytes,
				DEFAULTS.imageMaxBytes,
			),
			documentMaxBytes: pick(
				"/uploads/documentMaxBytes",
				file.uploads?.documentMaxBytes,
				DEFAULTS.documentMaxBytes,
			),
		},
		texts: { en: botTexts("en"), ru: botTexts("ru") },
		widgetTexts: {
			en: { ...pick("/texts/en/widget", file.texts?.en?.widget, {}) },
			ru: { ...pick("/texts/ru/widget", file.texts?.ru?.widget, {}) },
		},
	};
}

function isTimeZone(zone: string): boolean {
	try {
		new Intl.DateTimeFormat("en", { timeZone: zone });
		return true;
	} catch {
		return false;
	}
}

function isKnown(ms: number | undefined): ms is number {
	return ms !== undefined && !Number.isNaN(ms);
}

/** One error line about the value at a JSON pointer; the empty pointer is the whole file. */
function fileLine(pointer: string, root: unknown, message: string): string {
	return pointer === ""
		? `CONFIG_FILE: ${message}`
		: `CONFIG_FILE ${displayPath(pointer, root)}: ${message}`;
}

/** Completes "CONFIG_FILE <path>: …" for one schema error. */
function describe(problem: ValueError): string {
	if (problem.type === ValueErrorType.ObjectAdditionalProperties) {
		const known = Object.keys((problem.schema as { properties?: object }).properties ?? {});
		// Listing hundreds of text keys would drown the line; the catalogue is the reference.
		return known.length <= 16
			? `unknown key (allowed: ${known.join(", ")})`
			: "unknown key (not a key of the text catalogue)";
	}
	if (typeof problem.value === "string" && problem.schema.pattern === DURATION_PATTERN) {
		const checked = checkDuration(problem.value);
		if (!checked.ok) return checked.message;
	}
	const expected = (problem.schema as TSchema).description ?? "valid";
	return `must be ${expected} (got ${show(problem.value)})`;
}

/** A short rendering of an offending JSON value. */
function show(value: unknown): string {
	if (value === undefined) return "nothing";
	const json = JSON.stringify(value);
	return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * Turns a JSON pointer ("/sla/reminders/1") into the notation people write ("sla.reminders[1]"),
 * walking the value to tell array indexes from object keys.
 */
function displayPath(pointer: string, root: unknown): string {
	let shown = "";
	let node: unknown = root;
	for (const escaped of pointer.slice(1).split("/")) {
		const key = escaped.replaceAll("~1", "/").replaceAll("~0", "~");
		if (Array.isArray(node)) shown += `[${key}]`;
		else if (/^[A-Za-z_$][\w$]*$/.test(key)) shown += shown === "" ? key : `.${key}`;
		else shown += `[${JSON.stringify(key)}]`;
		node =
			node !== null && typeof node === "object"
				? (node as Record<string, unknown>)[key]
				: undefined;
	}
	return shown;
}

function reason(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
