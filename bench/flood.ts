/**
 * Benchmark "flood": a rush of customers under Telegram's group flood limit, with the
 * limit scaled down from ~20 calls a minute to 20 a second so a run takes seconds.
 *
 * 1. 150 customers get their topics with the budgets lifted (one message each), so the rush
 *    below is about messages, not topic creation.
 * 2. The double enforces 20 calls per 1 s window into the group (sliding window, 429 with
 *    retry_after beyond it); the service is restarted with a group budget of 10 per 1 s.
 * 3. rush: 50 customers × 3 messages within 2 s. Then, for comparison, the same rush with the
 *    service's budget equal to the double's limit, and 50 × 3 at 8/s (under the budget: nothing
 *    queues, nothing to merge).
 */

import { startTelegramDouble } from "../tests/support/telegram-double.ts";
import { api } from "../tests/support/web-client.ts";
import { renderFlood } from "./flood-report.ts";
import { type FloodResult, type FloodScenario, runFloodScenario } from "./flood-scenario.ts";
import { closedLoop, until } from "./support/clock.ts";
import { createBenchDatabase } from "./support/database.ts";
import { describeMachine } from "./support/machine.ts";
import { publishReport } from "./support/report.ts";
import { serviceDir, startBenchService } from "./support/service.ts";
import { initSessions } from "./support/web.ts";

const CUSTOMERS = 50;
const MESSAGES_PER_CUSTOMER = 3;
const LIMIT = { max: 20, windowMs: 1_000 };
const SCENARIOS: FloodScenario[] = [
	// A token bucket of C per window starts full and refills C over the window, so it can spend
	// 2C within one window: the service takes half the double's limit.
	{ name: "rush", label: "rush", serviceBudget: LIMIT.max / 2, perSecond: 75 },
	{
		name: "full",
		label: "rush, service budget = the double's limit",
		serviceBudget: LIMIT.max,
		perSecond: 75,
	},
	{ name: "steady", label: "steady (no backlog)", serviceBudget: LIMIT.max / 2, perSecond: 8 },
];
const UNTHROTTLED = {
	outbox: { groupPerMinute: 1_000_000, privatePerSecond: 1_000_000, globalPerSecond: 1_000_000 },
};

const log = (line: string) => console.log(`[flood] ${line}`);

const db = await createBenchDatabase();
const machine = describeMachine(serviceDir, db.version);
const double = startTelegramDouble();

try {
	const sessions = await createTopics(CUSTOMERS * SCENARIOS.length);
	const results: FloodResult[] = [];
	for (const [i, scenario] of SCENARIOS.entries()) {
		const result = await runFloodScenario(
			{
				databaseUrl: db.url,
				double,
				limit: LIMIT,
				sessions: sessions.slice(i * CUSTOMERS, (i + 1) * CUSTOMERS),
				messagesPerCustomer: MESSAGES_PER_CUSTOMER,
				timeoutMs: 90_000,
			},
			scenario,
		);
		log(
			`${scenario.name}: ${result.groupCalls} group calls (${result.sends} sends, ${result.mergedSends} merged), ${result.floodAnswers} × 429, last landed at ${Math.round(result.lastLandedMs)} ms, in order: ${result.inOrder}`,
		);
		results.push(result);
	}
	const report = renderFlood(results, { customers: CUSTOMERS, limit: LIMIT });
	publishReport("flood", machine, report);
} finally {
	await double.close();
	await db.drop();
}

/** Sessions whose customers have a topic, made with the budgets lifted. */
async function createTopics(count: number): Promise<string[]> {
	const service = await startBenchService({ databaseUrl: db.url, double, config: UNTHROTTLED });
	try {
		const { sessionIds } = await initSessions(service.url, count, 16);
		const sent = await closedLoop(count, 16, async (i) => {
			const response = await api(service.url, "POST", "/api/chat/message", {
				session: sessionIds[i] as string,
				body: { text: `hello c${i}`, clientMessageId: `hello-${i}` },
			});
			if (response.status !== 201) throw new Error(`message answered ${response.status}`);
		});
		if (sent.errors > 0)
			throw new Error(`${sent.errors} first messages failed: ${sent.firstError}`);
		const topics = () =>
			double.calls.filter(
				(c) =>
					c.ok && c.method === "sendMessage" && /^\[WEB\] hello c\d+$/.test(String(c.params.text)),
			).length;
		if (!(await until(() => topics() >= count, 60_000)))
			throw new Error(`only ${topics()} of ${count} topics got their first message`);
		log(`${count} topics created`);
		return sessionIds;
	} finally {
		await service.stop();
	}
}
