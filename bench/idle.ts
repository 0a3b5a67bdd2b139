import postgres from "postgres";
import type { SocketClient } from "../tests/support/web-client.ts";
import { runMessagePhase } from "./foundation-phase.ts";
import { sleep } from "./support/clock.ts";
import { CpuMeter, cpuSeconds, openFilesLimit, postgresCpuSeconds } from "./support/proc.ts";
import { count, fixed, p50p99, publishReport, table } from "./support/report.ts";
import { startBenchStack, UNTHROTTLED_CONFIG } from "./support/service.ts";
import { closeSockets, initSessions, openSockets } from "./support/web.ts";

const SOCKETS = Math.min(5_000, openFilesLimit() - 500);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const PACED_CUSTOMERS = 100;
const PACED_PER_SECOND = 50;
const PACED_MESSAGES = 3_000;
/** Customers who write once before the idle minute (see the warm-up below). */
const WARM_CUSTOMERS = 100;

const CONFIG = UNTHROTTLED_CONFIG;

const log = (line: string) => console.log(`[idle] ${line}`);

const { db, machine, double, service, stop } = await startBenchStack(CONFIG);
const cpuNow = () => ({
	service: cpuSeconds(service.pid),
	postgres: postgresCpuSeconds(),
});
const since = (before: ReturnType<typeof cpuNow>) => {
	const after = cpuNow();
	return { service: after.service - before.service, postgres: after.postgres - before.postgres };
};

try {
	log(`service pid ${service.pid} at ${service.url}`);
	const { sessionIds } = await initSessions(service.url, SOCKETS, 64);
	// Warm the upgrade path so its code is not counted as per-socket memory.
	await closeSockets((await openSockets(service.url, sessionIds.slice(0, 20), 1)).flat());
	await sleep(3_000);
	const before = await service.rssAfterGcKb();
	const sockets = (await openSockets(service.url, sessionIds, 1)).map(
		(own) => own[0] as SocketClient,
	);
	await sleep(3_000);
	const after = await service.rssAfterGcKb();
	const perSocketKb = (after.kb - before.kb) / sockets.length;
	log(
		`${sockets.length} idle sockets: RSS ${before.kb} → ${after.kb} kB${after.gc ? " (after forced GC)" : " (no GC hook)"}, ${fixed(perSocketKb, 2)} kB each`,
	);

	await sleep(5_000);
	// Transactions committed in the service's database (its statements outside a transaction
	// count one each): what the desk's own timers and safety nets cost while nothing happens.
	const probe = postgres(db.url, { max: 1, onnotice: () => {} });
	const commits = async () => {
		const [row] = await probe<{ n: string }[]>`
			select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`;
		return Number(row?.n ?? 0);
	};
	const commitsBefore = await commits();
	const idleStart = cpuNow();
	await sleep(IDLE_SECONDS * 1000);
	const idle = since(idleStart);
	// The probe's own second read is one of them.
	const idleStatements = (await commits()) - commitsBefore - 1;
	await probe.end();
	log(
		`idle ${IDLE_SECONDS} s: service ${fixed(idle.service, 2)} CPU-s, postgres ${fixed(idle.postgres, 2)} CPU-s, ${idleStatements} transactions`,
	);

	// A desk that has been running: after the idle minute (which it would disturb with the
	// compiler and autovacuum catching up), other customers write once (new topics, operator
	// replies), so the paced run does not pay for compiling the service's code or for the
	// database backends' first touch of each table. The paced customers are still new: their
	// topics are created while measured.
	await runMessagePhase({
		name: "warm",
		sockets: sockets.slice(PACED_CUSTOMERS, PACED_CUSTOMERS + WARM_CUSTOMERS),
		messagesPerCustomer: 1,
		mode: { kind: "paced", perSecond: PACED_PER_SECOND },
		double,
		cpu: () => new CpuMeter(() => ({ service: [service.pid] })),
		timeoutMs: 120_000,
	});
	await sleep(5_000);

	const pacedStart = cpuNow();
	const paced = await runMessagePhase({
		name: "slow",
		sockets: sockets.slice(0, PACED_CUSTOMERS),
		messagesPerCustomer: PACED_MESSAGES / PACED_CUSTOMERS,
		mode: { kind: "paced", perSecond: PACED_PER_SECOND },
		double,
		cpu: () => new CpuMeter(() => ({ service: [service.pid] })),
		timeoutMs: 120_000,
	});
	const pacedCpu = since(pacedStart);
	const thousands = paced.total / 1000;
	log(
		`paced ${PACED_PER_SECOND}/s: ${paced.echoed}/${paced.total}, echo ${p50p99(paced.echo)}, web→topic ${p50p99(paced.webToTopic)}, CPU/1k service ${fixed(pacedCpu.service / thousands, 2)} s + postgres ${fixed(pacedCpu.postgres / thousands, 2)} s`,
	);
	await closeSockets(sockets);

	const report = [
		`Memory: the service's RSS before and after opening the sockets, each read after two forced full collections (\`TOPICDESK_GC_ON_SIGUSR2=1\`, SIGUSR2 → \`Bun.gc(true)\`; a service without the hook is read as is). Idle: the sockets open, nothing else going on. Then ${WARM_CUSTOMERS} other customers write once each (their topics created, the operator answers), so the paced run is measured on a desk that has been running, not on code being compiled. Paced: ${PACED_CUSTOMERS} new customers among them write at 50/s (their topics are created during the run); CPU until every copy and reply landed. CPU counts every PostgreSQL process of the cluster.`,
		"",
		table(
			["measure", "result", "target"],
			[
				[
					`memory per idle socket (${count(sockets.length)} customers, one socket each)`,
					`**${fixed(perSocketKb, 2)} KB** (${count(before.kb / 1024)} → ${count(after.kb / 1024)} MiB${after.gc ? ", after forced GC" : ", no GC hook"})`,
					"≤ 6 KB",
				],
				[
					`CPU over an idle minute (${IDLE_SECONDS} s)`,
					`**${fixed(idle.service + idle.postgres, 2)} CPU-s** (service ${fixed(idle.service, 2)}, PostgreSQL ${fixed(idle.postgres, 2)})`,
					"≤ 0.5 CPU-s",
				],
				[`transactions in the service's database over the idle minute`, `${idleStatements}`, "—"],
				[
					`CPU per 1,000 messages at ${PACED_PER_SECOND}/s`,
					`**${fixed((pacedCpu.service + pacedCpu.postgres) / thousands, 2)} CPU-s** (service ${fixed(pacedCpu.service / thousands, 2)}, PostgreSQL ${fixed(pacedCpu.postgres / thousands, 2)})`,
					"≤ 2.0 CPU-s",
				],
				[`send → echo p50 / p99 at ${PACED_PER_SECOND}/s`, p50p99(paced.echo), "—"],
				[
					`web → topic p50 / p99 at ${PACED_PER_SECOND}/s`,
					`${p50p99(paced.webToTopic)} (${count(paced.webToTopic.count)} copies, ${paced.duplicates} duplicates)`,
					"—",
				],
			],
		),
	].join("\n");
	publishReport("idle", machine, report);
} finally {
	await stop();
}
