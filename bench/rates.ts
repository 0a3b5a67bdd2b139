/**
 * `bun run bench rates`: CPU per message against the rate messages arrive at. The same desk (200
 * customers whose topics exist, the code warmed up) takes web messages from 100 of them at each
 * rate in turn, for the same length of time; the CPU of the service (its main thread, and its
 * other threads together) and of every PostgreSQL process is read from the first message sent
 * to the last copy landed in its topic. No operator answers: the work measured is the messages'.
 *
 * Why: at a light load a message's cost is mostly that of waking processes that have been idle
 * since the one before, so a cost per message depends on the rate. This benchmark shows that
 * curve. BENCH_RATES (e.g.
 * `50,400`) and BENCH_RATE_SECONDS change the rates and the time spent at each.
 */
import type { SocketClient } from "../tests/support/web-client.ts";
import { runMessagePhase } from "./foundation-phase.ts";
import { sleep } from "./support/clock.ts";
import { CpuMeter, postgresCpuSeconds, threadCpuSeconds } from "./support/proc.ts";
import { count, fixed, p50p99, publishReport, table } from "./support/report.ts";
import { startBenchStack, UNTHROTTLED_CONFIG } from "./support/service.ts";
import { closeSockets, initSessions, openSockets } from "./support/web.ts";

const CUSTOMERS = 200;
const WRITING = 100;
const RATES = (process.env.BENCH_RATES ?? "10,25,50,100,200,400").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 40);
if (!RATES.every((rate) => rate > 0 && Number.isFinite(rate)) || !(SECONDS > 0)) {
	console.error(
		"BENCH_RATES takes positive messages per second (e.g. 50,400), BENCH_RATE_SECONDS a positive number",
	);
	process.exit(2);
}

const log = (line: string) => console.log(`[rates] ${line}`);

const { machine, double, service, stop } = await startBenchStack(UNTHROTTLED_CONFIG);
const cpuNow = () => {
	const threads = threadCpuSeconds(service.pid);
	const postgres = postgresCpuSeconds();
	return { main: threads.main, others: threads.others, postgres };
};

try {
	const { sessionIds } = await initSessions(service.url, CUSTOMERS, 64);
	const sockets = (await openSockets(service.url, sessionIds, 1)).map(
		(own) => own[0] as SocketClient,
	);
	const phase = (name: string, writers: readonly SocketClient[], each: number, rate: number) =>
		runMessagePhase({
			name,
			sockets: writers,
			messagesPerCustomer: each,
			mode: { kind: "paced", perSecond: rate },
			double,
			cpu: () => new CpuMeter(() => ({ service: [service.pid] })),
			timeoutMs: 120_000,
			operatorReplies: false,
		});
	// Every customer's topic made and the code compiled before anything is measured.
	await phase("warm", sockets, 1, 50);
	await sleep(5_000);

	const rows: string[][] = [];
	for (const rate of RATES) {
		const each = Math.max(1, Math.round((rate * SECONDS) / WRITING));
		const before = cpuNow();
		const started = performance.now();
		const result = await phase(`r${rate}`, sockets.slice(0, WRITING), each, rate);
		const wall = (performance.now() - started) / 1000;
		const after = cpuNow();
		const perMessage = (seconds: number) => fixed((seconds * 1000) / result.total, 2);
		const main = after.main - before.main;
		const others = after.others - before.others;
		const postgres = after.postgres - before.postgres;
		const total = main + others + postgres;
		rows.push([
			`${rate}/s`,
			count(result.total),
			perMessage(main),
			perMessage(others),
			perMessage(postgres),
			`**${perMessage(total)}**`,
			fixed((total * 1000) / wall, 0),
			p50p99(result.echo),
			p50p99(result.webToTopic),
		]);
		log(
			`${rate}/s: ${result.total} messages, ${perMessage(total)} CPU-ms each (service main ${perMessage(main)}, other threads ${perMessage(others)}, PostgreSQL ${perMessage(postgres)}); echo p50/p99 ${p50p99(result.echo)}, web → topic ${p50p99(result.webToTopic)}`,
		);
		await sleep(3_000);
	}
	await closeSockets(sockets);

	const report = [
		`${count(CUSTOMERS)} customers with topics (each wrote once to warm up); ${WRITING} of them write at each rate in turn for about ${SECONDS} s, no operator answers. CPU from the first message sent to the last copy landed in its topic, in CPU-milliseconds per message; "per second" is CPU-milliseconds per second of that time; the latencies are a visitor's (the message sent → its echo) and an operator's (sent → its copy in the topic). PostgreSQL counts every process of the cluster. CPU-ms per message equals CPU-s per 1,000 messages.`,
		"",
		table(
			[
				"rate",
				"messages",
				"service main thread",
				"service other threads",
				"PostgreSQL",
				"total per message",
				"per second",
				"send → echo p50 / p99",
				"web → topic p50 / p99",
			],
			rows,
		),
	].join("\n");
	publishReport("rates", machine, report);
} finally {
	await stop();
}
