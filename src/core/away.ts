/**
 * The away message: outside business hours, a customer whose message opens or reopens a
 * conversation gets one automatic reply in the channel they wrote from, naming the next opening
 * in the business's time zone, and the topic notes it. At most one per customer per closed
 * period (a period is known by the opening that ends it). It is the desk speaking, not an
 * operator: a `system` message, no status change, no effect on the SLA clock.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Channel } from "../db/schema.ts";
import { messages, ticketEvents } from "../db/schema.ts";
import { availability } from "./business-hours.ts";
import { recordEvent } from "./status.ts";
import { sayOnWeb } from "./system-messages.ts";
import type { Work } from "./unit-of-work.ts";

/** A customer's message just stored, and whether it reopened a closed ticket. */
export interface Written {
	customerId: string;
	channel: Channel;
	reopened: boolean;
}

/** "Monday 09:00 (Europe/Berlin)" in the desk's language; "soon" for a schedule never open. */
export function nextOpening(opensAt: Date | undefined, locale: string, timeZone: string) {
	if (!opensAt) return locale === "ru" ? "позже" : "later";
	const shown = new Intl.DateTimeFormat(locale, {
		weekday: "long",
		hour: "2-digit",
		minute: "2-digit",
		hourCycle: "h23",
		timeZone,
	}).format(opensAt);
	return `${shown} (${timeZone})`;
}

/**
 * Sends the away message to those of these customers whose message opened or reopened their
 * conversation, when the desk is closed now and they have not had it in this closed period.
 * Costs nothing while the desk is open.
 */
export async function answerAway(work: Work, written: readonly Written[], now = new Date()) {
	const hours = work.policy.businessHours;
	if (!work.policy.away || !hours || written.length === 0) return;
	const { open, opensAt } = availability(now, hours);
	if (open) return;
	const period = opensAt?.toISOString() ?? "never";
	const ids = written.map((w) => w.customerId);
	// A conversation opens with the customer's first message.
	const firsts = await work.tx
		.select({ customerId: messages.customerId })
		.from(messages)
		.where(and(inArray(messages.customerId, ids), eq(messages.author, "user")))
		.groupBy(messages.customerId)
		.having(sql`count(*) = 1`);
	const opened = new Set(firsts.map((row) => row.customerId.toLowerCase()));
	const due = written.filter((w) => w.reopened || opened.has(w.customerId.toLowerCase()));
	if (due.length === 0) return;
	const told = await work.tx
		.select({ customerId: ticketEvents.customerId })
		.from(ticketEvents)
		.where(
			and(
				inArray(
					ticketEvents.customerId,
					due.map((w) => w.customerId),
				),
				eq(ticketEvents.kind, "AWAY"),
				sql`${ticketEvents.details}->>'opensAt' = ${period}`,
			),
		);
	const already = new Set(told.map((row) => row.customerId.toLowerCase()));
	const when = nextOpening(opensAt, work.texts.locale, hours.timeZone);
	for (const w of due) {
		if (already.has(w.customerId.toLowerCase())) continue;
		await recordEvent(work, w.customerId, "AWAY", "system:away", { opensAt: period });
		if (w.channel === "telegram")
			await work.enqueue(w.customerId, { kind: "dm_text", text: "awayMessage", vars: { when } });
		else await sayOnWeb(work, w.customerId, work.texts.get("awayMessage", { when }));
		await work.enqueue(w.customerId, { kind: "topic_notice", text: "noticeAway", vars: { when } });
	}
}
