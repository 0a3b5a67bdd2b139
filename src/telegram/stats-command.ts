/**
 * `/stats` in any topic of the support group, the General topic included: the desk's figures
 * (`core/desk-stats.ts`) as one message for operators, where it was asked. With several support
 * groups, each group's figures: its operators answer its customers, and its budget and SLA are
 * its own, so the whole desk's figures would blur what each group is asked about.
 */
import type { TelegramMessage } from "gramio";
import { type DeskStats, deskStats } from "../core/desk-stats.ts";
import type { Work } from "../core/unit-of-work.ts";
import { ticketStatuses } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import type { Texts } from "../i18n/texts.ts";
import { answerOperators, topicCustomer } from "./command-answer.ts";
import { shortDuration } from "./display-time.ts";
import type { RouterDeps } from "./router-deps.ts";

export const STATS_COMMAND = /^\/stats(?:@\w+)?(?:\s|$)/i;

/** The figures as text; `ofGroup`: they cover the group asked in, not the whole desk. */
export function renderStats(texts: Texts, stats: DeskStats, ofGroup = false): string {
	const counts = ticketStatuses
		.map((status) => `${texts.get(`status${status}` as TextKey)} ${stats.byStatus[status]}`)
		.join(" · ");
	const lines = [
		texts.get(ofGroup ? "statsTitleGroup" : "statsTitle"),
		texts.get("statsNow", { counts }),
		texts.get("statsNew", { today: stats.newToday, week: stats.newWeek }),
		stats.medianFirstResponseMs == null
			? texts.get("statsFirstResponseNone")
			: texts.get("statsFirstResponse", {
					median: shortDuration(stats.medianFirstResponseMs),
					answered: stats.answered,
				}),
		stats.csat.average == null
			? texts.get("statsCsatNone")
			: texts.get("statsCsat", { average: stats.csat.average.toFixed(1), count: stats.csat.count }),
	];
	if (stats.operators.length === 0) lines.push(texts.get("statsNoOperators"));
	else
		lines.push(
			texts.get("statsOperators"),
			...stats.operators.map((o) => texts.get("statsOperator", { ...o })),
		);
	return lines.join("\n");
}

/**
 * Answers `/stats` in the topic it was written in (a customer's) or in the General topic: the
 * figures of the group it was asked in when the desk has several, else the whole desk's.
 */
export async function answerStats(work: Work, deps: RouterDeps, message: TelegramMessage) {
	const ofGroup = deps.groups.ids().length > 1;
	const stats = await deskStats(work.tx, {
		now: new Date(),
		timeZone: deps.timeZone,
		hours: deps.core.policy.businessHours,
		...(ofGroup ? { groupKey: deps.groupKey } : {}),
	});
	const text = renderStats(deps.texts, stats, ofGroup);
	await answerOperators(work, deps, await topicCustomer(work, deps, message), text);
}
