/**
 * The flood benchmark's section of docs/BENCHMARKS.md.
 */
import type { FloodResult } from "./flood-scenario.ts";
import { count, fixed, p50p99, table } from "./support/report.ts";

const seconds = (ms: number) => `${fixed(ms / 1000, 2)} s`;

export function renderFlood(
	results: readonly FloodResult[],
	setup: { customers: number; limit: { max: number; windowMs: number } },
): string {
	const { customers, limit } = setup;
	const window = `${limit.windowMs / 1000} s`;
	const rows = results.map((r) => [
		`${r.label}: ${count(customers)} × ${r.messages / customers} at ${count(r.perSecond)}/s`,
		`${count(r.serviceBudget)} per ${window}`,
		seconds(r.sendingMs),
		count(r.groupCalls),
		`**${fixed(r.groupCalls / r.messages, 2)}**`,
		`${count(r.sends)} (${count(r.mergedSends)})`,
		`**${count(r.floodAnswers)}**`,
		`**${seconds(r.lastLandedMs)}**`,
		p50p99(r.latency),
		r.inOrder && r.failedSends === 0 ? "yes" : `no (${r.failedSends} sends failed)`,
	]);
	const measured = table(
		[
			"scenario",
			"service budget",
			"sent in",
			"group calls",
			"calls per message",
			"sends (merged)",
			"429 answers",
			"last message landed",
			"send → landed p50 / p99",
			"all once, in order",
		],
		rows,
	);
	const main = results[0];
	const messages = main?.messages ?? 0;
	const budget = main?.serviceBudget ?? 1;
	const perSecond = (budget * 1000) / limit.windowMs;
	const minimum = (sends: number) => `${fixed(sends / perSecond, 1)} s`;
	const telegram = (sends: number) => `${fixed(sends / 20, 2)} min`;
	return [
		`The double enforces Telegram's group flood limit scaled from ~20 calls a minute to **${limit.max} calls per ${window}** (a sliding window over every chat-writing call into the group; beyond it 429 with \`retry_after\`). The service is configured to match with \`outbox: { groupPerMinute: ${budget}, groupWindow: "${limit.windowMs / 1000}s" }\`, half the double's limit: its budget is a token bucket of C calls per window that starts full and refills continuously, so within one window it can spend the full bucket and then the C calls refilled meanwhile — up to 2C. Before the runs, ${count(customers * results.length)} customers got their topics with the budgets lifted (one message each), so the rushes are about messages; each scenario then restarts the service with its budget and uses ${count(customers)} of them. Times run from the first send; a message has landed when the double receives the \`sendMessage\` carrying it (alone or merged).`,
		"",
		measured,
		"",
		"The second row runs the service at the double's full limit (its bucket can then spend up to twice the limit in a window), the third sends the same 150 messages slower than the budget, so nothing queues and nothing is merged.",
		"",
		`Theoretical minimum for the ${count(messages)} messages of the rush under the service's budget of ${count(budget)} per ${window}: with perfect merging (one send per customer) ${count(customers)} sends → **${minimum(customers)}**; without merging ${count(messages)} sends → **${minimum(messages)}** (the bucket starts full, so the first ${count(budget)} go at once and each figure can be ~${window} shorter). The same at Telegram's real ~20 calls a minute: ${count(customers)} sends → **${telegram(customers)}**, ${count(messages)} sends → **${telegram(messages)}**; this rush's ${count(main?.groupCalls ?? 0)} group calls → **${telegram(main?.groupCalls ?? 0)}** (twice as long with the service at half of Telegram's limit, as here).`,
	].join("\n");
}
