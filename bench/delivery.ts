import type { SocketClient } from "../tests/support/web-client.ts";
import { type PhaseMode, type PhaseResult, runMessagePhase } from "./foundation-phase.ts";
import { sleep } from "./support/clock.ts";
import { CpuMeter, cpuSeconds, pidsNamed, postgresCpuSeconds } from "./support/proc.ts";
import { count, fixed, p50p99, publishReport, table } from "./support/report.ts";
import { startBenchStack, UNTHROTTLED_CONFIG } from "./support/service.ts";
import { closeSockets, initSessions, openSockets } from "./support/web.ts";

const BURST_CUSTOMERS = 200;
const BURST_MESSAGES = 10;
const SUSTAINED_CUSTOMERS = 1_000;
const SUSTAINED_PER_SECOND = Number(process.env.BENCH_SUSTAINED_RATE ?? 1_000);
const SUSTAINED_SECONDS = 30;
const WAIT_TIMEOUT_MS = 300_000;

const CONFIG = UNTHROTTLED_CONFIG;

const log = (line: string) => console.log(`[delivery] ${line}`);

const { machine, double, service, stop } = await startBenchStack(CONFIG);
const groups = () => ({
	service: [service.pid],
	"load generator": [process.pid],
	postgres: pidsNamed("postgres"),
});
const cpuNow = () => ({
	service: cpuSeconds(service.pid),
	postgres: postgresCpuSeconds(),
});

interface Measured {
	result: PhaseResult;
	/** CPU seconds per 1,000 messages, from the first send until everything landed. */
	cpuPerThousand: { service: number; postgres: number };
}

async function phase(name: string, sockets: SocketClient[], perCustomer: number, mode: PhaseMode) {
	const before = cpuNow();
	const result = await runMessagePhase({
		name,
		sockets,
		messagesPerCustomer: perCustomer,
		mode,
		double,
		cpu: () => new CpuMeter(groups),
		timeoutMs: WAIT_TIMEOUT_MS,
	});
	const after = cpuNow();
	const thousands = result.total / 1000;
	return {
		result,
		cpuPerThousand: {
			service: (after.service - before.service) / thousands,
			postgres: (after.postgres - before.postgres) / thousands,
		},
	} satisfies Measured;
}

const describe = (m: Measured) =>
	`${m.result.echoed}/${m.result.total} echoed in ${fixed(m.result.acceptMs, 0)} ms, echo ${p50p99(m.result.echo)}, web→topic ${p50p99(m.result.webToTopic)} (${m.result.webToTopic.count}), copies in ${fixed(m.result.topicMs, 0)} ms, CPU/1k service ${fixed(m.cpuPerThousand.service, 2)} s + postgres ${fixed(m.cpuPerThousand.postgres, 2)} s, ${m.result.errorFrames.length} error frames, ${m.result.duplicates} duplicates`;

try {
	log(`service pid ${service.pid} at ${service.url}`);
	const { sessionIds } = await initSessions(
		service.url,
		2 * BURST_CUSTOMERS + SUSTAINED_CUSTOMERS,
		64,
	);
	const one = async (ids: string[]) =>
		(await openSockets(service.url, ids, 1)).map((own) => own[0] as SocketClient);
	const sustainedIds = sessionIds.slice(2 * BURST_CUSTOMERS);
	/** The 200 × 10 burst of new customers (each one's first message creates their topic). */
	const runBurst = async (name: string, ids: string[]) => {
		const sockets = await one(ids);
		await sleep(2_000);
		const measured = await phase(name, sockets, BURST_MESSAGES, { kind: "closed" });
		log(`${name}: ${describe(measured)}`);
		// Who had the cores while messages were being accepted (percent of one core).
		log(
			`${name} CPU shares until the last echo: ${Object.entries(measured.result.cpu)
				.map(([group, share]) => `${group} ${fixed(share, 0)}%`)
				.join(", ")}`,
		);
		await closeSockets(sockets);
		return measured;
	};
	// First on the process just started: every code path and database connection is cold.
	const burst = await runBurst("burst", sessionIds.slice(0, BURST_CUSTOMERS));
	// Then as on a desk that has been running: 200 other customers (of the sustained phase) have
	// written three messages each, all landed, before 200 new customers burst.
	const warmSockets = await one(sustainedIds.slice(0, BURST_CUSTOMERS));
	const warmUp = await runMessagePhase({
		name: "warmup",
		sockets: warmSockets,
		messagesPerCustomer: 3,
		mode: { kind: "closed" },
		double,
		cpu: () => new CpuMeter(groups),
		timeoutMs: WAIT_TIMEOUT_MS,
	});
	log(`warm-up: ${warmUp.echoed} messages landed`);
	await closeSockets(warmSockets);
	const runningBurst = await runBurst(
		"running",
		sessionIds.slice(BURST_CUSTOMERS, 2 * BURST_CUSTOMERS),
	);
	// The sustained phase and the report; BENCH_BURST_ONLY=1 runs the burst alone (to profile
	// it) and writes nothing to BENCHMARKS.md.
	const sustainedAndReport = async () => {
		const sustainedSockets = await one(sustainedIds);
		// Every customer's topic exists first (one message each, all landed): the sustained phase
		// measures delivery, not topic creation (three more calls per new customer).
		const warm = await runMessagePhase({
			name: "warm",
			sockets: sustainedSockets,
			messagesPerCustomer: 1,
			mode: { kind: "closed" },
			double,
			cpu: () => new CpuMeter(groups),
			timeoutMs: WAIT_TIMEOUT_MS,
		});
		log(`warm-up: ${warm.webToTopic.count} topics ready`);
		await sleep(2_000);
		const perCustomer = Math.round(
			(SUSTAINED_PER_SECOND * SUSTAINED_SECONDS) / SUSTAINED_CUSTOMERS,
		);
		const sustained = await phase("sustained", sustainedSockets, perCustomer, {
			kind: "paced",
			perSecond: SUSTAINED_PER_SECOND,
		});
		log(`sustained: ${describe(sustained)}`);
		await closeSockets(sustainedSockets);

		const rate = (n: number, ms: number) =>
			`${count(n)} in ${fixed(ms / 1000, 2)} s → **${count((n * 1000) / ms)}/s**`;
		const cpu = (m: Measured) =>
			`**${fixed(m.cpuPerThousand.service + m.cpuPerThousand.postgres, 2)} s** (service ${fixed(m.cpuPerThousand.service, 2)}, PostgreSQL ${fixed(m.cpuPerThousand.postgres, 2)})`;
		const phases = [burst, runningBurst, sustained];
		const row = (label: string, cell: (m: Measured) => string, target: string) => [
			label,
			...phases.map(cell),
			target,
		];
		const report = [
			"Flood budgets lifted (`outbox.groupPerMinute`, `privatePerSecond`, `globalPerSecond` = 1,000,000), one socket per customer, the Bot API double answering at once. Latencies as in foundation; CPU from the first send until the last copy landed and every operator reply arrived (all PostgreSQL processes of the cluster). Each burst's 200 customers are new: their first messages create their topics and cards, and the operator answers each once. The first burst runs on the service just started (code not yet compiled by the JavaScript engine, database connections and their prepared statements cold); the second after 200 other customers wrote three messages each (a desk that has been running). The sustained phase's customers already have topics.",
			"",
			table(
				[
					"measure",
					`burst: ${count(BURST_CUSTOMERS)} × ${BURST_MESSAGES}, closed loop, on the process just started`,
					`burst: the same on a running desk (another ${count(BURST_CUSTOMERS)} new customers)`,
					`sustained: ${count(SUSTAINED_PER_SECOND)}/s for ${SUSTAINED_SECONDS} s (${count(SUSTAINED_CUSTOMERS)} sockets)`,
					"target",
				],
				[
					row(
						"messages accepted (send → echo)",
						(m) => rate(m.result.echoed, m.result.acceptMs),
						"burst ≥ 2,500/s",
					),
					row("send → echo p50 / p99", (m) => p50p99(m.result.echo), "p99 ≤ 100 ms"),
					row(
						"web → topic p50 / p99",
						(m) => p50p99(m.result.webToTopic),
						"sustained p99 ≤ 100 ms",
					),
					row(
						"copies in the topics",
						(m) => rate(m.result.webToTopic.count, m.result.topicMs),
						"burst ≥ 1,500/s",
					),
					row("CPU per 1,000 messages (service + PostgreSQL)", cpu, "burst ≤ 3.0 s"),
					row(
						"error frames / duplicate copies",
						(m) => `${m.result.errorFrames.length} / ${m.result.duplicates}`,
						"0 / 0",
					),
				],
			),
		].join("\n");
		publishReport("delivery", machine, report);
	};
	if (process.env.BENCH_BURST_ONLY !== "1") await sustainedAndReport();
} finally {
	await stop();
}
