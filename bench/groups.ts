/**
 * Benchmark "groups": new tickets a desk carries past Telegram's ~20 writes a minute into one
 * group, with 1, 2 and 4 support groups. Time is compressed ten times: the double enforces 20
 * writes per 6 s window in each group (Telegram's minute), and the service's budget is
 * `groupPerMinute: 20` over a `groupWindow` of 6 s. New web customers arrive for three
 * (compressed) minutes at 15 a minute per group, above one group's 10 new tickets a minute at
 * two writes each, and each asks one question. A ticket has landed when its question is in its
 * topic (under the card); pins wait for an idle group (`card.pin` "when-idle").
 */
import type { ApiCall, TelegramDouble } from "../tests/support/telegram-double.ts";
import { startTelegramDouble } from "../tests/support/telegram-double.ts";
import { CHAT_WRITE_METHODS } from "../tests/support/telegram-double-faults.ts";
import { api, type Envelope } from "../tests/support/web-client.ts";
import { now, paced, sleep, until } from "./support/clock.ts";
import { createBenchDatabase } from "./support/database.ts";
import { describeMachine, type Machine } from "./support/machine.ts";
import { count, fixed, publishReport, table } from "./support/report.ts";
import { serviceDir, startBenchService } from "./support/service.ts";
import { clientAddress } from "./support/web.ts";

/**
 * One compressed minute. `BENCH_GROUPS_MINUTE_MS=60000` runs in real time, which also lets it
 * drive a service from before `outbox.groupWindow` existed (`BENCH_SERVICE_DIR`).
 */
const MINUTE_MS = Number(process.env.BENCH_GROUPS_MINUTE_MS ?? 6_000);
const SCALE = 60_000 / MINUTE_MS;
const LIMIT = { max: 20, windowMs: MINUTE_MS };
const ARRIVALS_PER_MINUTE_PER_GROUP = 15;
const MINUTES = 3;
const GROUP_COUNTS = (process.env.BENCH_GROUPS_COUNTS ?? "1,2,4").split(",").map(Number);
const EXTRA_GROUPS = [-1009000000001, -1009000000002, -1009000000003];

interface GroupsResult {
	groups: number;
	customers: number;
	/** Tickets whose question landed within a (compressed) minute of being sent, per minute. */
	promptPerMinute: number;
	/** Group writes (sends, copies, edits, pins, topics) per ticket, pins included. */
	writesPerTicket: number;
	/** Writes per ticket before any pin (the rush itself). */
	writesBeforePins: number;
	/** The last customer's question: sent → landed, in real minutes. */
	lastDelayMinutes: number;
	/** Sent → landed, median, in real seconds. */
	medianDelaySeconds: number;
	floodAnswers: number;
	spread: string;
}

const log = (line: string) => console.log(`[groups] ${line}`);
const results: GroupsResult[] = [];
let machine: Machine | undefined;
for (const groups of GROUP_COUNTS) {
	// A fresh database per run: the last run's customers hold topics of a double that is gone.
	const db = await createBenchDatabase();
	machine ??= describeMachine(serviceDir, db.version);
	try {
		const result = await runGroups(db.url, groups);
		log(
			`${groups} group(s): ${fixed(result.promptPerMinute, 1)} tickets/min within 60 s, ${fixed(result.writesPerTicket, 2)} writes/ticket, last question after ${fixed(result.lastDelayMinutes, 2)} min, ${result.floodAnswers} × 429, spread ${result.spread}`,
		);
		results.push(result);
	} finally {
		await db.drop();
	}
}
if (machine) publishReport("groups", machine, render(results));

async function runGroups(databaseUrl: string, groups: number): Promise<GroupsResult> {
	const double = startTelegramDouble();
	const ids = [double.groupId, ...EXTRA_GROUPS.slice(0, groups - 1)];
	for (const id of ids.slice(1)) double.addForum(id);
	for (const id of ids) double.setFloodLimit({ chatId: id, ...LIMIT });
	const service = await startBenchService({
		databaseUrl,
		double,
		config: {
			outbox:
				MINUTE_MS === 60_000
					? { groupPerMinute: LIMIT.max }
					: { groupPerMinute: LIMIT.max, groupWindow: `${MINUTE_MS / 1000}s` },
			ws: { ping: "10m", idle: "30m" },
		},
		env: { SUPPORT_GROUP_ID: ids.join(",") },
	});
	try {
		await sleep(500);
		const since = double.calls.length;
		const customers = ARRIVALS_PER_MINUTE_PER_GROUP * groups * MINUTES;
		const perSecond = (ARRIVALS_PER_MINUTE_PER_GROUP * groups * 1000) / MINUTE_MS;
		const sentAt = new Float64Array(customers);
		const answers: Promise<void>[] = [];
		await paced(customers, perSecond, (i) => {
			const headers = { "x-forwarded-for": clientAddress(i) };
			answers.push(
				(async () => {
					const init = await api<Envelope<{ sessionId: string }>>(
						service.url,
						"POST",
						"/api/chat/init",
						{ headers },
					);
					sentAt[i] = now();
					const sent = await api(service.url, "POST", "/api/chat/message", {
						session: init.body.data.sessionId,
						body: { text: `question c${i}`, clientMessageId: `q-${i}` },
						headers,
					});
					if (sent.status !== 201) throw new Error(`message answered ${sent.status}`);
				})(),
			);
		});
		await Promise.all(answers);
		const landedAt = () => landings(double.calls.slice(since), ids);
		if (!(await until(() => landedAt().size >= customers, 20 * MINUTE_MS * MINUTES, 100)))
			throw new Error(`only ${landedAt().size} of ${customers} questions landed`);
		const landed = landedAt();
		const rushWrites = groupWrites(double, since, ids);
		// Pins follow once the groups are idle: wait for one per ticket (or give up quietly).
		await until(() => pins(double, since) >= customers, 4 * MINUTE_MS, 100);
		await sleep(1_000);
		const delays = [...landed].map(([i, at]) => at - (sentAt[i] ?? 0)).sort((a, b) => a - b);
		const prompt = delays.filter((ms) => ms <= MINUTE_MS).length;
		const byGroup = ids.map((id) => double.topicsIn(id).length);
		const last = customers - 1;
		return {
			groups,
			customers,
			promptPerMinute: prompt / MINUTES,
			writesPerTicket: groupWrites(double, since, ids).length / customers,
			writesBeforePins: rushWrites.filter((c) => c.method !== "pinChatMessage").length / customers,
			lastDelayMinutes: (((landed.get(last) ?? Number.NaN) - (sentAt[last] ?? 0)) * SCALE) / 60_000,
			medianDelaySeconds: ((delays[Math.floor(delays.length / 2)] ?? Number.NaN) * SCALE) / 1000,
			floodAnswers: double.calls.slice(since).filter((c) => c.errorCode === 429).length,
			spread: byGroup.join(" / "),
		};
	} finally {
		await service.stop();
		await double.close();
	}
}

/** When each customer's question landed in a group (its first call carrying it). */
function landings(calls: readonly ApiCall[], ids: readonly number[]) {
	const landed = new Map<number, number>();
	for (const call of calls) {
		if (!call.ok || call.method !== "sendMessage" || !ids.includes(Number(call.params.chat_id)))
			continue;
		for (const match of String(call.params.text).matchAll(/\[WEB\] question c(\d+)/g)) {
			const i = Number(match[1]);
			if (!landed.has(i)) landed.set(i, call.at);
		}
	}
	return landed;
}

function groupWrites(double: TelegramDouble, since: number, ids: readonly number[]) {
	return double.calls
		.slice(since)
		.filter(
			(c) => c.ok && CHAT_WRITE_METHODS.has(c.method) && ids.includes(Number(c.params.chat_id)),
		);
}

function pins(double: TelegramDouble, since: number) {
	return double.calls.slice(since).filter((c) => c.ok && c.method === "pinChatMessage").length;
}

function render(rows: readonly GroupsResult[]): string {
	const one = rows[0]?.promptPerMinute ?? 0;
	const measured = table(
		[
			"groups",
			"customers (15/min per group, 3 min)",
			"tickets/min landing within 60 s",
			"× one group",
			"writes per ticket (before pins / with pins)",
			"question landed p50",
			"last question landed after",
			"429 answers",
			"topics per group",
		],
		rows.map((r) => [
			count(r.groups),
			count(r.customers),
			`**${fixed(r.promptPerMinute, 1)}**`,
			fixed(r.promptPerMinute / one, 2),
			`${fixed(r.writesBeforePins, 2)} / ${fixed(r.writesPerTicket, 2)}`,
			`${fixed(r.medianDelaySeconds, 0)} s`,
			`${fixed(r.lastDelayMinutes, 2)} min`,
			count(r.floodAnswers),
			r.spread,
		]),
	);
	return [
		`Time compressed ${SCALE}×: the double enforces **${LIMIT.max} writes per ${MINUTE_MS / 1000} s window in each group** (Telegram's ~20 a minute; 429 beyond it), the service runs with \`outbox: { groupPerMinute: ${LIMIT.max}, groupWindow: "${MINUTE_MS / 1000}s" }\` and \`SUPPORT_GROUP_ID\` listing 1, 2 or 4 groups (no routes: each new customer joins the group with the shortest write queue). New web customers arrive evenly for ${MINUTES} minutes at ${ARRIVALS_PER_MINUTE_PER_GROUP} a minute per group, each asking one question; times below are in real (uncompressed) units. A ticket lands when its question is in its topic, under the card; pins wait for an idle group.`,
		"",
		measured,
		"",
		`Target: one group ≥ 9 new tickets a minute with each question in its topic within a minute; N groups ≈ N times that. Arrivals exceed what a group can carry (10 tickets a minute at 2 writes each), so the last customers wait behind the backlog: the last question's delay shows the queue, the per-minute figure the capacity.`,
	].join("\n");
}
