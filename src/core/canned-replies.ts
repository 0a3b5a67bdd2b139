/**
 * Canned replies: texts operators send often, saved under a name (`[a-z0-9_-]{1,32}`), one
 * variant per locale, in the database so every instance shares them. Sending one is an operator
 * reply in every way (operator-messages.ts): stored, pushed to the widget, copied to the private
 * chat, the SLA clock stopped, the status moved, the ticket taken by the first to answer.
 */
import { type Static, Type } from "@sinclair/typebox";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { cannedReplies, customers } from "../db/schema.ts";
import { catalogues, type Locale } from "../i18n/texts.ts";
import { type OperatorMessageInput, recordOperatorMessage } from "./operator-messages.ts";
import type { StoredMessage } from "./stored-message.ts";
import { topicOwner } from "./support-groups.ts";
import type { Work } from "./unit-of-work.ts";

export const CANNED_NAME = /^[a-z0-9_-]{1,32}$/;
/** The words of `/r` itself, which cannot be names. */
export const RESERVED_NAMES: readonly string[] = ["save", "del"];
/** Telegram's limit of one text message: a reply longer than that could not be sent as one. */
export const CANNED_MAX = 4096;
export const CANNED_LOCALES = Object.keys(catalogues) as Locale[];

const cannedText = Type.String({
	minLength: 1,
	maxLength: CANNED_MAX,
	description: `a text of 1 to ${CANNED_MAX} characters`,
});

/** The config file's `canned`: `{"<name>": {"en": "…", "ru": "…"}}`. */
export const CannedPreloadSchema = Type.Record(
	Type.String({ pattern: CANNED_NAME.source }),
	Type.Object(
		{ en: Type.Optional(cannedText), ru: Type.Optional(cannedText) },
		{
			additionalProperties: false,
			description: 'an object of texts per locale, e.g. {"en": "Hello {name}!"}',
		},
	),
	{
		additionalProperties: false,
		description: "names are a-z, 0-9, _ and -, 1 to 32 characters",
	},
);
export type CannedPreload = Static<typeof CannedPreloadSchema>;

export interface CannedName {
	name: string;
	locales: string[];
}

/** Saves (or replaces) one variant of a reply. */
export async function saveCanned(work: Work, name: string, locale: Locale, text: string) {
	await work.tx
		.insert(cannedReplies)
		.values({ name, locale, text, source: "operator" })
		.onConflictDoUpdate({
			target: [cannedReplies.name, cannedReplies.locale],
			set: { text, source: "operator", updatedAt: sql`now()` },
		});
}

/** Deletes a reply (every variant, or one); returns how many variants went. */
export async function deleteCanned(work: Work, name: string, locale?: Locale): Promise<number> {
	const rows = await work.tx
		.delete(cannedReplies)
		.where(
			locale
				? and(eq(cannedReplies.name, name), eq(cannedReplies.locale, locale))
				: eq(cannedReplies.name, name),
		)
		.returning({ name: cannedReplies.name });
	return rows.length;
}

/** Every saved name with its locales, by name. */
export async function listCanned(work: Work): Promise<CannedName[]> {
	const rows = await work.tx
		.select({ name: cannedReplies.name, locale: cannedReplies.locale })
		.from(cannedReplies)
		.orderBy(asc(cannedReplies.name), asc(cannedReplies.locale));
	const names: CannedName[] = [];
	for (const row of rows) {
		const last = names.at(-1);
		if (last?.name === row.name) last.locales.push(row.locale);
		else names.push({ name: row.name, locales: [row.locale] });
	}
	return names;
}

/**
 * The variant for a customer: their locale's, else the desk's default locale's, else any.
 * Null when no reply has this name.
 */
export async function pickCanned(
	work: Work,
	name: string,
	locale: string | null,
	fallback: Locale,
): Promise<string | null> {
	const rows = await work.tx
		.select({ locale: cannedReplies.locale, text: cannedReplies.text })
		.from(cannedReplies)
		.where(eq(cannedReplies.name, name))
		.orderBy(asc(cannedReplies.locale));
	const chosen =
		rows.find((row) => row.locale === locale) ??
		rows.find((row) => row.locale === fallback) ??
		rows[0];
	return chosen?.text ?? null;
}

/**
 * `{name}` becomes the customer's first name; without one it goes, with the comma or space
 * that led to it, so "Hello {name}!" reads "Hello!".
 * @example fillName("Hi {name}, thanks", "Ann") // "Hi Ann, thanks"
 */
export function fillName(text: string, firstName: string | null): string {
	if (firstName) return text.replaceAll("{name}", firstName);
	return text.replace(/^\{name\}[,!.]?[ \t]*/, "").replace(/[ \t]*,?[ \t]*\{name\}/g, "");
}

/** The first name of the customer, as far as the desk knows it. */
function firstNameOf(row: { telegramFirstName: string | null; identityName?: string | null }) {
	const name = row.telegramFirstName ?? row.identityName?.trim().split(/\s+/)[0];
	return name || null;
}

export type CannedSendResult =
	| { sent: StoredMessage; text: string }
	| { unknown: true }
	/** The topic belongs to no customer. */
	| null;

/**
 * Sends the reply named `name` to the customer of the topic as the operator's reply: the
 * customer's locale picks the variant and `{name}` is filled in.
 */
export async function sendCanned(
	work: Work,
	name: string,
	fallback: Locale,
	input: Omit<OperatorMessageInput, "text" | "telegramMessageId" | "media" | "entities">,
): Promise<CannedSendResult> {
	const [customer] = await work.tx
		.select({
			locale: customers.locale,
			telegramFirstName: customers.telegramFirstName,
			identityName: sql<string | null>`${customers.identity}->>'name'`,
		})
		.from(customers)
		.where(topicOwner(input.topicId, input.groupKey));
	if (!customer) return null;
	const template = await pickCanned(work, name, customer.locale, fallback);
	if (template === null) return { unknown: true };
	const text = fillName(template, firstNameOf(customer)).slice(0, CANNED_MAX);
	const sent = await recordOperatorMessage(work, { ...input, text });
	return sent ? { sent, text } : null;
}

/**
 * Loads the config file's replies at start: a name an operator saved stays theirs; one the file
 * gave follows the file. (A preloaded reply deleted with `/r del` comes back at the next start
 * while the file still has it.)
 */
export async function preloadCanned(database: Database, preload: CannedPreload | undefined) {
	const rows = Object.entries(preload ?? {}).flatMap(([name, variants]) =>
		Object.entries(variants).flatMap(([locale, text]) =>
			text ? [{ name, locale, text, source: "config" as const }] : [],
		),
	);
	if (rows.length === 0) return;
	await database.db
		.insert(cannedReplies)
		.values(rows)
		.onConflictDoUpdate({
			target: [cannedReplies.name, cannedReplies.locale],
			set: { text: sql`excluded.text`, updatedAt: sql`now()` },
			setWhere: sql`canned_replies.source = 'config'`,
		});
}
