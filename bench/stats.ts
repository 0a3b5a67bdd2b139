/**
 * Benchmark "stats": how long `/stats` takes to compute on a desk with 100,000 tickets. No
 * service: the command's queries (`deskStats`) against a migrated PostgreSQL database filled by
 * SQL: 100,000 customers (statuses spread), each opened once over the last 90 days, 10 messages
 * each (the operators' replies among them, by 5 operators), a close and a rating for a quarter of
 * them; then ANALYZE, as autovacuum would. Reported: the time of one `/stats` (p50 and max of 20
 * runs, in one transaction each, as the command runs).
 */
import { sql } from "drizzle-orm";
import { deskStats } from "../src/core/desk-stats.ts";
import { openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { summarize } from "./support/clock.ts";
import { createBenchDatabase } from "./support/database.ts";
import { describeMachine } from "./support/machine.ts";
import { count, fixed, publishReport, table } from "./support/report.ts";
import { serviceDir } from "./support/service.ts";

const TICKETS = Number(process.env.BENCH_STATS_TICKETS ?? 100_000);
const RUNS = 20;
const log = (line: string) => console.log(`[stats] ${line}`);

const db = await createBenchDatabase();
const database = await openDatabase({ databaseUrl: db.url, dataDir: "" });
try {
	await migrate(database);
	const started = performance.now();
	await database.db.execute(sql`
		insert into customers (id, status, display_name, created_at)
		select gen_random_uuid(), (array['NEW','IN_PROGRESS','WAITING_CLIENT','CLOSED'])[1 + i % 4],
			'Customer ' || i, now() - (i % 90) * interval '1 day' - (i % 1440) * interval '1 minute'
		from generate_series(1, ${TICKETS}) as i`);
	await database.db.execute(sql`
		insert into operators (telegram_user_id, name)
		select 5000000 + o, 'Operator ' || o from generate_series(1, 5) as o`);
	await database.db.execute(sql`
		insert into ticket_events (customer_id, kind, actor, created_at)
		select id, 'OPENED', 'customer', created_at from customers`);
	await database.db.execute(sql`
		insert into messages (customer_id, author, channel, text, operator_id, created_at)
		select c.id, case when m % 2 = 0 then 'support' else 'user' end, 'telegram', 'message ' || m,
			case when m % 2 = 0 then 5000001 + m % 5 end, c.created_at + m * interval '7 minutes'
		from customers c, generate_series(1, 10) as m`);
	await database.db.execute(sql`
		insert into ticket_events (customer_id, kind, actor, to_status, created_at)
		select id, 'CLOSED', 'operator:' || (5000001 + abs(hashtext(id::text)) % 5), 'CLOSED',
			created_at + interval '2 hours'
		from customers where status = 'CLOSED'`);
	await database.db.execute(sql`
		insert into ticket_events (customer_id, kind, actor, details, created_at)
		select id, 'RATED', 'customer', jsonb_build_object('rating', 1 + abs(hashtext(id::text)) % 5),
			created_at + interval '3 hours'
		from customers where status = 'CLOSED'`);
	await database.db.execute(sql`analyze`);
	log(`filled ${count(TICKETS)} tickets in ${fixed((performance.now() - started) / 1000)} s`);

	const times: number[] = [];
	let last = "";
	for (let run = 0; run < RUNS; run++) {
		const t0 = performance.now();
		const stats = await database.db.transaction((tx) =>
			deskStats(tx, { now: new Date(), timeZone: "UTC" }),
		);
		times.push(performance.now() - t0);
		last = `${stats.newWeek} new in 7 days, ${stats.answered} answered, ${stats.operators.length} operators`;
	}
	const summary = summarize(times);
	log(`/stats: p50 ${fixed(summary.p50)} ms, max ${fixed(summary.max)} ms (${last})`);
	const report = [
		`A desk of ${count(TICKETS)} tickets made by SQL (statuses spread, one opening each over 90 days, 10 messages each of which 5 operators' replies, a close and a rating for a quarter), analysed; \`/stats\` computed ${RUNS} times, each in its own transaction as the command runs. The figures it reads: ${last}.`,
		"",
		table(
			["tickets", "/stats p50", "/stats max"],
			[[count(TICKETS), `${fixed(summary.p50)} ms`, `${fixed(summary.max)} ms`]],
		),
	].join("\n");
	publishReport("stats", describeMachine(serviceDir, db.version), report);
} finally {
	await database.close();
	await db.drop();
}
