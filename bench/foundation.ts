import type { SocketClient } from "../tests/support/web-client.ts";
import { type PhaseMode, type PhaseResult, runMessagePhase } from "./foundation-phase.ts";
import { type RepliesResult, runReplies } from "./foundation-replies.ts";
import { sleep, summarize } from "./support/clock.ts";
import { CpuMeter, openFilesLimit, pidsNamed } from "./support/proc.ts";
import { count, fixed, p50p99, publishReport, table } from "./support/report.ts";
import { startBenchStack } from "./support/service.ts";
import { closeSockets, initSessions, openSockets } from "./support/web.ts";

const CUSTOMERS = 1_000;
const MESSAGES_PER_CUSTOMER = 10;
const SOCKETS_PER_CUSTOMER = 10;
const PACED_PER_SECOND = 2_000;
/** Operator answers a second on an otherwise quiet service. */
const QUIET_REPLIES_PER_SECOND = 200;
const INIT_CONCURRENCY = 64;
const WAIT_TIMEOUT_MS = 180_000;

const CONFIG = {
	// No ping and no idle cut-off during the run: idle sockets must stay idle and open.
	ws: { ping: "10m", idle: "30m" },
	// Telegram's real budgets would turn this into a test of the throttle.
	outbox: { groupPerMinute: 1_000_000, privatePerSecond: 1_000_000, globalPerSecond: 1_000_000 },
};

const log = (line: string) => console.log(`[foundation] ${line}`);

const needed = CUSTOMERS * SOCKETS_PER_CUSTOMER + 500;
if (openFilesLimit() < needed) {
	console.error(`open-files limit ${openFilesLimit()} < ${needed}; raise it with ulimit -n`);
	process.exit(1);
}

const { machine, double, service, stop } = await startBenchStack(CONFIG);
const cpuGroups = () => ({
	service: [service.pid],
	"load generator": [process.pid],
	postgres: pidsNamed("postgres"),
});

try {
	log(
		`service pid ${service.pid} at ${service.url}; rateLimits applied: ${service.rateLimitsApplied}`,
	);
	const { sessionIds, load: init } = await initSessions(
		service.url,
		2 * CUSTOMERS,
		INIT_CONCURRENCY,
	);
	log(`${sessionIds.length} sessions in ${fixed(init.elapsedMs, 0)} ms`);
	const burstSessions = sessionIds.slice(0, CUSTOMERS);
	const pacedSessions = sessionIds.slice(CUSTOMERS);

	// Warm the upgrade path so its code is not counted as per-socket memory.
	await closeSockets((await openSockets(service.url, burstSessions.slice(0, 20), 5)).flat());
	await sleep(3_000);
	const rssBefore = service.rssKb();
	const openedAt = performance.now();
	const grouped = await openSockets(service.url, burstSessions, SOCKETS_PER_CUSTOMER);
	const openMs = performance.now() - openedAt;
	const idleSockets = grouped.flat().length;
	await sleep(5_000);
	const rssAfter = service.rssKb();
	const perSocketKb = (rssAfter - rssBefore) / idleSockets;
	log(
		`${idleSockets} idle sockets: RSS ${rssBefore} → ${rssAfter} kB, ${fixed(perSocketKb, 2)} kB each`,
	);
	await closeSockets(grouped.flatMap((own) => own.slice(1)));
	const burstSockets = grouped.map((own) => own[0] as SocketClient);

	const phase = (name: string, sockets: SocketClient[], mode: PhaseMode) =>
		runMessagePhase({
			name,
			sockets,
			messagesPerCustomer: MESSAGES_PER_CUSTOMER,
			mode,
			double,
			cpu: () => new CpuMeter(cpuGroups),
			timeoutMs: WAIT_TIMEOUT_MS,
		});
	await sleep(2_000);
	const burst = await phase("burst", burstSockets, { kind: "closed" });
	log(`burst: ${describe(burst)}`);
	const pacedSockets = (await openSockets(service.url, pacedSessions, 1)).map(
		(own) => own[0] as SocketClient,
	);
	await sleep(2_000);
	const pacedRun = await phase("paced", pacedSockets, {
		kind: "paced",
		perSecond: PACED_PER_SECOND,
	});
	log(`paced: ${describe(pacedRun)}`);
	await sleep(2_000);
	const replies = await runReplies({
		name: "quiet",
		sockets: pacedSockets,
		threads: pacedRun.threads,
		double,
		perSecond: QUIET_REPLIES_PER_SECOND,
		timeoutMs: WAIT_TIMEOUT_MS,
	});
	log(`quiet replies: ${p50p99(replies.latency)} (${replies.latency.count}/${replies.expected})`);
	await closeSockets([...burstSockets, ...pacedSockets]);

	const report = render({
		init: { ...init, count: sessionIds.length },
		rss: { before: rssBefore, after: rssAfter, sockets: idleSockets, perSocketKb, openMs },
		burst,
		paced: pacedRun,
		replies,
		rateLimitsApplied: service.rateLimitsApplied,
	});
	publishReport("foundation", machine, report);
} finally {
	await stop();
}

function describe(result: PhaseResult): string {
	return `${result.echoed}/${result.total} echoed in ${fixed(result.acceptMs, 0)} ms, echo ${p50p99(result.echo)}, web→topic ${p50p99(result.webToTopic)} (${result.webToTopic.count}), topic→web ${p50p99(result.topicToWeb)} (${result.topicToWeb.count}), ${result.errorFrames.length} error frames${errorCodes(result)}`;
}

/** ` (INTERNAL_ERROR)`: the codes of a phase's error frames, if any. */
function errorCodes(result: PhaseResult): string {
	const codes = new Set(result.errorFrames.map((data) => String(JSON.parse(data).code)));
	return codes.size > 0 ? ` (${[...codes].join(", ")})` : "";
}

interface Rendered {
	init: { latencies: number[]; elapsedMs: number; count: number };
	rss: { before: number; after: number; sockets: number; perSocketKb: number; openMs: number };
	burst: PhaseResult;
	paced: PhaseResult;
	replies: RepliesResult;
	rateLimitsApplied: boolean;
}

function render(r: Rendered): string {
	const rate = (n: number, ms: number) =>
		`${count(n)} in ${fixed(ms / 1000, 2)} s → **${count((n * 1000) / ms)}/s**`;
	const cpu = (p: PhaseResult) =>
		Object.entries(p.cpu)
			.map(([group, share]) => `${group} ${fixed(share, 0)}%`)
			.join(", ");
	const phases = [r.burst, r.paced];
	const row = (label: string, cell: (p: PhaseResult) => string, target: string) => [
		label,
		...phases.map(cell),
		target,
	];
	const messages = table(
		[
			"measure",
			`burst: ${count(CUSTOMERS)} sockets × ${MESSAGES_PER_CUSTOMER}, closed loop`,
			`paced: ${count(CUSTOMERS)} sockets × ${MESSAGES_PER_CUSTOMER}, ${count(PACED_PER_SECOND)}/s offered`,
			"target",
		],
		[
			row("messages accepted (send → echo)", (p) => rate(p.echoed, p.acceptMs), "≥ 2,000/s"),
			row("send → echo p50 / p99", (p) => p50p99(p.echo), "—"),
			row("web → topic p50 / p99", (p) => p50p99(p.webToTopic), "p99 ≤ 50 ms"),
			row("copies in the topics", (p) => rate(p.webToTopic.count, p.topicMs), "—"),
			row(
				"topic → web p50 / p99",
				(p) => `${p50p99(p.topicToWeb)} (${count(p.topicToWeb.count)} replies)`,
				"p99 ≤ 50 ms",
			),
			row("CPU while accepting (% of one core)", cpu, "—"),
			row(
				"error frames / duplicate copies",
				(p) => `${p.errorFrames.length}${errorCodes(p)} / ${p.duplicates}`,
				"0 / 0",
			),
		],
	);
	const init = summarize(r.init.latencies);
	const memory = table(
		[
			"idle sockets",
			"opened in",
			"service RSS before",
			"after (+5 s)",
			"per idle socket",
			"target",
		],
		[
			[
				count(r.rss.sockets),
				`${fixed(r.rss.openMs / 1000, 2)} s`,
				`${count(r.rss.before / 1024)} MiB`,
				`${count(r.rss.after / 1024)} MiB`,
				`**${fixed(r.rss.perSocketKb, 2)} KB**`,
				"≤ 10 KB",
			],
		],
	);
	const limits = r.rateLimitsApplied
		? "`rateLimits` raised in the config file"
		: "`rateLimits` not supported by this service version: TRUST_PROXY=true and a distinct X-Forwarded-For per session";
	return [
		"Message latencies run from the frame leaving the client: to its echo on the same socket " +
			"(committed and published), to the double receiving `sendMessage` `[WEB] <text>`, and from " +
			"`operatorPosts` to the `support` frame on the customer's socket. The burst keeps one " +
			"message in flight per socket (1,000 at once), so its latencies are mostly queueing; the " +
			"paced run offers the target rate and shows whether the service keeps up with it.",
		"",
		`Sessions: ${count(r.init.count)} × POST /api/chat/init, 64 in flight, ${rate(r.init.count, r.init.elapsedMs)}, p50 / p99 ${p50p99(init)} (${limits}).`,
		"",
		messages,
		"",
		`Topic → web on a quiet service (after the phases above drained): ${count(r.replies.latency.count)} of ${count(r.replies.expected)} operator answers at ${count(r.replies.perSecond)}/s, p50 / p99 **${p50p99(r.replies.latency)}**, max ${fixed(r.replies.latency.max)} ms.`,
		"",
		memory,
	].join("\n");
}
