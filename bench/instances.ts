/**
 * Benchmark "instances": two service processes on one PostgreSQL database, one Bot API
 * double. Widgets are connected to instance A; operators answer in the customers' topics; the
 * instance that polls Telegram applies the update and its event reaches the widget on A — by
 * LISTEN/NOTIFY when the poller is B.
 *
 * 1. A starts and wins the polling lock, then B starts and stands by.
 * 2. 200 customers open a widget on A and send a first message (their topics open).
 * 3. Poller A: the first answer in every topic (status NEW → IN_PROGRESS), then 5 answers per
 *    topic, 100 a second; latency operator post → `message` frame on the widget.
 * 4. A restarts, so B takes the lock; the widgets reconnect to the new A.
 * 5. Poller B: 5 more answers per topic, 100 a second, each crossing from B to A.
 */
import { startTelegramDouble } from "../tests/support/telegram-double.ts";
import type { SocketClient } from "../tests/support/web-client.ts";
import { type RepliesResult, runReplies } from "./foundation-replies.ts";
import { type PhaseRow, renderInstances } from "./instances-report.ts";
import { describeRole, type Role, roleOf, waitForRole } from "./instances-roles.ts";
import { sleep, until } from "./support/clock.ts";
import { createBenchDatabase } from "./support/database.ts";
import { describeMachine } from "./support/machine.ts";
import { CpuMeter, pidsNamed } from "./support/proc.ts";
import { p50p99, publishReport } from "./support/report.ts";
import { type BenchService, serviceDir, startBenchService } from "./support/service.ts";
import { closeSockets, initSessions, openSockets } from "./support/web.ts";

const CUSTOMERS = 200;
const ANSWERS_PER_TOPIC = 5;
const PER_SECOND = 100;
const TIMEOUT_MS = 60_000;
const CONFIG = {
	ws: { ping: "10m", idle: "30m" },
	outbox: { groupPerMinute: 1_000_000, privatePerSecond: 1_000_000, globalPerSecond: 1_000_000 },
};

const log = (line: string) => console.log(`[instances] ${line}`);

const db = await createBenchDatabase();
const machine = describeMachine(serviceDir, db.version);
const double = startTelegramDouble();
const running: BenchService[] = [];
const start = async () => {
	const service = await startBenchService({ databaseUrl: db.url, double, config: CONFIG });
	running.push(service);
	return service;
};

try {
	let a = await start();
	await waitForRole(a.url, "polling");
	const b = await start();
	await waitForRole(b.url, "standby");
	log(`A pid ${a.pid} polls, B pid ${b.pid} stands by`);

	const { sessionIds } = await initSessions(a.url, CUSTOMERS, 32);
	let sockets = await widgets(a, sessionIds);
	const threads = await openTopics(sockets);
	log(`${CUSTOMERS} topics open`);

	const phase = async (name: string, rounds: number, setup: string): Promise<PhaseRow> => {
		const roles: [Role, Role] = [await roleOf(a.url), await roleOf(b.url)];
		const meter = new CpuMeter(() => ({
			"instance A": [a.pid],
			"instance B": [b.pid],
			postgres: pidsNamed("postgres"),
			"load generator": [process.pid],
		}));
		const result: RepliesResult = await runReplies({
			name,
			sockets: Array.from({ length: rounds }, () => sockets).flat(),
			threads: Int32Array.from(Array.from({ length: rounds }, () => [...threads]).flat()),
			double,
			perSecond: PER_SECOND,
			timeoutMs: TIMEOUT_MS,
		});
		const cpu = meter.read();
		log(
			`${name}: A ${describeRole(roles[0])}, B ${describeRole(roles[1])}: ${p50p99(result.latency)} (${result.latency.count}/${result.expected})`,
		);
		return { setup, roles, result, cpu };
	};

	const first = await phase("first", 1, "first answer in each topic (status changes)");
	const onA = await phase("on-a", ANSWERS_PER_TOPIC, "further answers");

	// A restarts: B takes the polling lock, the widgets reconnect to the new A.
	await closeSockets(sockets);
	const stoppedAt = performance.now();
	await a.stop();
	running.splice(running.indexOf(a), 1);
	await waitForRole(b.url, "polling");
	const handoverMs = performance.now() - stoppedAt;
	a = await start();
	await waitForRole(a.url, "standby");
	log(
		`A restarted (pid ${a.pid}); B took over polling ${Math.round(handoverMs)} ms after A stopped`,
	);
	sockets = await widgets(a, sessionIds);
	await sleep(1_000);
	const onB = await phase("on-b", ANSWERS_PER_TOPIC, "further answers");
	await closeSockets(sockets);

	const report = renderInstances({
		customers: CUSTOMERS,
		perSecond: PER_SECOND,
		rows: [first, onA, onB],
		handoverMs,
	});
	publishReport("instances", machine, report);
} finally {
	for (const service of running) await service.stop();
	await double.close();
	await db.drop();
}

/** One widget socket per session on `instance`. */
async function widgets(instance: BenchService, sessionIds: string[]): Promise<SocketClient[]> {
	const grouped = await openSockets(instance.url, sessionIds, 1, 50);
	return grouped.map((own) => own[0] as SocketClient);
}

/** Each widget sends a first message; the topic the desk opened for it, per customer. */
async function openTopics(sockets: readonly SocketClient[]): Promise<Int32Array> {
	const threads = new Int32Array(sockets.length);
	sockets.forEach((socket, i) => {
		socket.send({ type: "message", text: `hello c${i}`, clientMessageId: `hello-${i}` });
	});
	const found = () => {
		let seen = 0;
		for (const call of double.calls) {
			const match = /^\[WEB\] hello c(\d+)$/.exec(String(call.params.text));
			if (!call.ok || call.method !== "sendMessage" || !match) continue;
			threads[Number(match[1])] = Number(call.params.message_thread_id);
			seen++;
		}
		return seen;
	};
	if (!(await until(() => found() >= sockets.length, TIMEOUT_MS, 100)))
		throw new Error(`only ${found()} of ${sockets.length} topics opened`);
	return threads;
}
