/**
 * The instances benchmark's section of docs/BENCHMARKS.md.
 */
import type { RepliesResult } from "./foundation-replies.ts";
import type { Role } from "./instances-roles.ts";
import { count, fixed, p50p99, table } from "./support/report.ts";

export interface PhaseRow {
	setup: string;
	/** Instance A's and B's roles when the phase started. */
	roles: [Role, Role];
	result: RepliesResult;
	cpu: Record<string, number>;
}

export function renderInstances(r: {
	customers: number;
	perSecond: number;
	rows: readonly PhaseRow[];
	handoverMs: number;
}): string {
	const role = (x: Role) => x.bot;
	const path = (row: PhaseRow) =>
		row.roles[1].bot === "polling"
			? "B polls → NOTIFY → A"
			: row.roles[0].bot === "polling"
				? "A polls, same instance"
				: "?";
	const rows = r.rows.map((row) => [
		row.setup,
		`${role(row.roles[0])} / ${role(row.roles[1])}`,
		path(row),
		`${count(row.result.latency.count)} of ${count(row.result.expected)}`,
		`**${p50p99(row.result.latency)}**`,
		`${fixed(row.result.latency.max)} ms`,
		"p99 ≤ 50 ms",
		Object.entries(row.cpu)
			.map(([group, share]) => `${group} ${fixed(share, 0)}%`)
			.join(", "),
	]);
	const [a, b] = r.rows[0]?.roles ?? [];
	const events =
		a?.events === b?.events ? `${a?.events} on both` : `A ${a?.events}, B ${b?.events}`;
	return [
		`Two service processes (A, B) on one fresh database, one Bot API double in the load generator. ${count(r.customers)} customers have one widget socket each on A; the operator answers in their topics at ${count(r.perSecond)} answers/s (\`operatorPosts\`), and latency runs from the post to the \`message\` frame from "support" on the widget. The roles come from each instance's \`/health/ready\` (\`bot\`: polling or standby; \`events\`: ${events}). A starts first and wins the polling lock; for the cross-instance rows A restarts, B takes the lock (${fixed(r.handoverMs / 1000, 1)} s after A stopped) and the widgets reconnect to the new A.`,
		"",
		table(
			[
				"answers",
				"A / B",
				"path to the widget",
				"delivered",
				"p50 / p99",
				"max",
				"target",
				"CPU (% of one core)",
			],
			rows,
		),
	].join("\n");
}
