/**
 * Benchmark "http": request throughput of the widget's HTTP API with a bounded number
 * of clients in flight, and a broadcast to 20,000 concurrent WebSockets (2,000 customers × 10).
 *
 * 1. 20,000 × POST /api/chat/init (64 in flight).
 * 2. RSS per idle socket: customers × 10 sockets held by a fleet of client processes.
 * 3. Broadcast: socket 0 of each customer sends a message; its echo reaches all 10 sockets of
 *    the customer (one native publish each); delivery latency to every socket.
 * 4. 10 × POST /api/chat/message per customer, then 20,000 × GET /api/chat/history (64 in flight).
 *
 * The bot is disabled: nothing here involves Telegram, and the outbox just keeps the copies.
 */
import { api } from "../tests/support/web-client.ts";
import { type FleetMember, type FleetReply, slices, startFleet } from "./fleet.ts";
import { closedLoop, type LoadResult, sleep, summarize } from "./support/clock.ts";
import { createBenchDatabase } from "./support/database.ts";
import { describeMachine } from "./support/machine.ts";
import { CpuMeter, openFilesLimit, pidsNamed } from "./support/proc.ts";
import { count, fixed, p50p99, publishReport, table } from "./support/report.ts";
import { serviceDir, startBenchService } from "./support/service.ts";
import { initSessions } from "./support/web.ts";

const REQUESTS = 20_000;
const IN_FLIGHT = 64;
const WANTED_CUSTOMERS = 2_000;
const SOCKETS_PER_CUSTOMER = 10;
const MESSAGES_PER_CUSTOMER = 10;
const BROADCAST_PER_SECOND = 1_000;
/** File descriptors a process needs besides its sockets (database pool, listeners, stdio…). */
const FD_RESERVE = 300;

const CONFIG = { ws: { ping: "10m", idle: "30m" } };

const log = (line: string) => console.log(`[http] ${line}`);

// Every client socket has a server socket in the service, which inherits this process's limit.
const fdLimit = openFilesLimit();
const customers = Math.min(
	WANTED_CUSTOMERS,
	Math.floor((fdLimit - FD_RESERVE) / SOCKETS_PER_CUSTOMER),
);
const sockets = customers * SOCKETS_PER_CUSTOMER;
const fleetSize = Math.max(1, Math.ceil(sockets / (fdLimit - FD_RESERVE)));

const db = await createBenchDatabase();
const machine = describeMachine(serviceDir, db.version);
const service = await startBenchService({ databaseUrl: db.url, config: CONFIG }).catch(
	async (error) => {
		await db.drop();
		throw error;
	},
);
let fleet: FleetMember[] = [];
const cpuGroups = () => ({
	service: [service.pid],
	"load generator": [process.pid, ...fleet.map((member) => member.pid)],
	postgres: pidsNamed("postgres"),
});

interface Measured {
	label: string;
	load: LoadResult;
	cpu: Record<string, number>;
}

async function measure(label: string, total: number, job: (i: number) => Promise<void>) {
	const meter = new CpuMeter(cpuGroups);
	const load = await closedLoop(total, IN_FLIGHT, job);
	const result: Measured = { label, load, cpu: meter.read() };
	log(
		`${label}: ${count((total * 1000) / load.elapsedMs)}/s, ${p50p99(summarize(load.latencies))}, ${load.errors} errors ${load.firstError ?? ""}`,
	);
	return result;
}

/** Throws unless the answer has the expected status. */
async function expectStatus(status: number, call: Promise<{ status: number; body: unknown }>) {
	const response = await call;
	if (response.status !== status)
		throw new Error(`answered ${response.status}: ${JSON.stringify(response.body).slice(0, 200)}`);
}

try {
	log(
		`service pid ${service.pid}; open-files limit ${fdLimit}: ${count(customers)} customers × ${SOCKETS_PER_CUSTOMER} sockets over ${fleetSize} client processes`,
	);
	const initMeter = new CpuMeter(cpuGroups);
	const { sessionIds, load: initLoad } = await initSessions(service.url, REQUESTS, IN_FLIGHT);
	const init: Measured = { label: "POST /api/chat/init", load: initLoad, cpu: initMeter.read() };
	log(
		`init: ${count((REQUESTS * 1000) / initLoad.elapsedMs)}/s, ${p50p99(summarize(initLoad.latencies))}`,
	);
	const holders = sessionIds.slice(0, customers);

	fleet = startFleet(fleetSize);
	await sleep(3_000);
	const rssBefore = service.rssKb();
	const openedAt = performance.now();
	const parts = slices(holders, fleetSize);
	const opened = await Promise.all(
		fleet.map((member, i) =>
			member.request({
				type: "open",
				url: service.url,
				sessionIds: parts[i] ?? [],
				perSession: SOCKETS_PER_CUSTOMER,
			}),
		),
	);
	const openMs = performance.now() - openedAt;
	const openSockets = opened.reduce((sum, r) => sum + (r.type === "opened" ? r.sockets : 0), 0);
	await sleep(5_000);
	const rssAfter = service.rssKb();
	const perSocketKb = (rssAfter - rssBefore) / openSockets;
	log(
		`${openSockets} sockets in ${fixed(openMs, 0)} ms: RSS ${rssBefore} → ${rssAfter} kB, ${fixed(perSocketKb, 2)} kB each`,
	);

	const broadcastMeter = new CpuMeter(cpuGroups);
	const delivered = (await Promise.all(
		fleet.map((member) =>
			member.request({
				type: "broadcast",
				tag: "broadcast",
				perSecond: BROADCAST_PER_SECOND / fleetSize,
				timeoutMs: 120_000,
			}),
		),
	)) as Extract<FleetReply, { type: "delivered" }>[];
	const broadcastCpu = broadcastMeter.read();
	const latencies = delivered.flatMap((reply) => reply.latencies);
	const expected = delivered.reduce((sum, reply) => sum + reply.expected, 0);
	const errorFrames = delivered.reduce((sum, reply) => sum + reply.errorFrames, 0);
	const broadcast = summarize(latencies);
	log(
		`broadcast: ${latencies.length}/${expected} delivered, ${p50p99(broadcast)}, max ${fixed(broadcast.max)} ms`,
	);
	await Promise.all(fleet.map((member) => member.request({ type: "close" })));
	fleet = [];

	const message = await measure("POST /api/chat/message", customers * MESSAGES_PER_CUSTOMER, (i) =>
		expectStatus(
			201,
			api(service.url, "POST", "/api/chat/message", {
				session: holders[i % customers],
				body: { text: `seed ${i}`, clientMessageId: `seed-${i}` },
			}),
		),
	);
	const history = await measure(
		`GET /api/chat/history?limit=50 (${MESSAGES_PER_CUSTOMER + 1} messages each)`,
		REQUESTS,
		(i) =>
			expectStatus(
				200,
				api(service.url, "GET", "/api/chat/history?limit=50", { session: holders[i % customers] }),
			),
	);

	const cpu = (shares: Record<string, number>) =>
		Object.entries(shares)
			.map(([group, share]) => `${group} ${fixed(share, 0)}%`)
			.join(", ");
	const requests = table(
		["request", "count", "in flight", "requests/s", "p50 / p99", "errors", "CPU (% of one core)"],
		[init, message, history].map((m) => [
			m.label,
			count(m.load.latencies.length + m.load.errors),
			String(IN_FLIGHT),
			`**${count(((m.load.latencies.length + m.load.errors) * 1000) / m.load.elapsedMs)}**`,
			p50p99(summarize(m.load.latencies)),
			String(m.load.errors),
			cpu(m.cpu),
		]),
	);
	const fanOut = table(
		[
			"sockets",
			"client processes",
			"opened in",
			"service RSS before",
			"after (+5 s)",
			"per idle socket",
			"target",
		],
		[
			[
				`${count(openSockets)} (${count(customers)} customers × ${SOCKETS_PER_CUSTOMER})`,
				String(fleetSize),
				`${fixed(openMs / 1000, 2)} s`,
				`${count(rssBefore / 1024)} MiB`,
				`${count(rssAfter / 1024)} MiB`,
				`**${fixed(perSocketKb, 2)} KB**`,
				"≤ 10 KB",
			],
		],
	);
	const delivery = table(
		["broadcast", "deliveries", "p50 / p99", "max", "error frames", "CPU (% of one core)"],
		[
			[
				`1 message per customer from its socket 0, ${count(BROADCAST_PER_SECOND)} customers/s`,
				`${count(latencies.length)} of ${count(expected)}`,
				`**${p50p99(broadcast)}**`,
				`${fixed(broadcast.max)} ms`,
				String(errorFrames),
				cpu(broadcastCpu),
			],
		],
	);
	const limited =
		customers < WANTED_CUSTOMERS
			? `\n\nThe open-files limit (${fdLimit}, not raisable here) caps the service at ${count(sockets)} sockets, so ${count(customers)} customers instead of ${count(WANTED_CUSTOMERS)}.`
			: "";
	const report = `${requests}\n\n${fanOut}\n\n${delivery}${limited}`;
	publishReport("http", machine, report);
} finally {
	for (const member of fleet) member.kill();
	await service.stop();
	await db.drop();
}
