/**
 * Benchmark "claims": the outbox claim at any backlog and any statistics.
 * No service: the worker's own statements against a database, on PostgreSQL and on PGlite.
 *
 * The bad case is forced: 1,000 customers and 5,000 delivered items, then `ANALYZE` while
 * nothing is pending (autovacuum off for the queue tables on PostgreSQL, so the statistics stay
 * stale; PGlite never analyses by itself). Then backlogs of 2,000, 20,000 and 100,000 pending
 * items (item i to customer i mod 1,000; 10% priority 1, 5% for the private chat), each drained
 * by the worker's statements: claim 32 group + 32 DM heads (`CLAIM_SQL`), finish them in one
 * `outbox_finish` call, repeat. Reported: claim time (wall, prepared) and drain rate over the
 * first 10,000 deliveries of each backlog (all of 2,000).
 *
 * "Before": the previous claim (anti-join over pending items, walking `outbox_due_idx`), its
 * first claim timed on the same data (in a transaction rolled back; 60 s statement timeout on
 * PostgreSQL; on PGlite only at 2,000, where it already takes seconds).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type Database, openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { arrayLiteral, rawQuery } from "../src/db/raw-sql.ts";
import { CLAIM_SQL } from "../src/outbox/claim.ts";
import { summarize } from "./support/clock.ts";
import { createBenchDatabase } from "./support/database.ts";
import { describeMachine } from "./support/machine.ts";
import { count, fixed, publishReport, table } from "./support/report.ts";
import { serviceDir } from "./support/service.ts";

const CUSTOMERS = 1_000;
const DONE_ROWS = 5_000;
/**
 * Customers who wrote before and have nothing pending: their heads are idle. A claim must not
 * read past them: an idle head has target 'idle', outside every claim's range; left on its last
 * target, ready "now", it would be read by every claim that finds fewer heads ready than it may
 * take.
 */
const IDLE_CUSTOMERS = Number(process.env.BENCH_CLAIMS_IDLE ?? 100_000);
const SIZES = (process.env.BENCH_CLAIMS_SIZES ?? "2000,20000,100000").split(",").map(Number);
const MEASURED = 10_000;
const BATCH = 32;
const OLD_TIMEOUT_MS = 60_000;

const log = (line: string) => console.log(`[claims] ${line}`);

/** The claim before outbox heads (f38eaf0), its selecting part. */
const OLD_CLAIM = `select o.id from outbox o
	where o.state = 'pending' and o.target = 'group'
		and o.next_attempt_at <= now() and o.locked_until <= now()
		and not exists (select 1 from outbox p
			where p.state = 'pending' and p.customer_id = o.customer_id and p.id < o.id)
		and not exists (select 1 from outbox q
			where q.state = 'pending' and q.customer_id = o.customer_id and q.id <> o.id
				and q.locked_until > now())
	order by o.priority, o.next_attempt_at, o.id
	limit 32
	for update skip locked`;

interface Row {
	engine: string;
	backlog: number;
	oldFirstMs: number | string;
	claim: ReturnType<typeof summarize>;
	finish: ReturnType<typeof summarize>;
	perSecond: number;
	drained: number;
}

async function setUp(database: Database, engine: string, old: boolean) {
	await migrate(database);
	// The old claim's index, so "before" is timed as it ran (created before the ANALYZE); the
	// new schema has dropped it, so the "after" database does not have it.
	if (old)
		await database.db.execute(sql`create index if not exists outbox_due_idx
			on outbox (target, priority, next_attempt_at, id) where state = 'pending'`);
	await database.db.execute(sql`insert into customers (display_name)
		select 'c' || g from generate_series(1, ${CUSTOMERS}) g`);
	await database.db.execute(sql`insert into outbox (customer_id, kind, payload, state, done_at)
		select c.id, 'topic_message', '{}'::jsonb, 'done', now()
		from (select id, row_number() over () as n from customers) c, generate_series(1, ${DONE_ROWS / CUSTOMERS})`);
	if (!old) await addIdleCustomers(database);
	if (engine === "postgres") {
		await database.db.execute(sql`alter table outbox set (autovacuum_enabled = false)`);
		await database.db.execute(sql`alter table outbox_heads set (autovacuum_enabled = false)`);
	}
	// The bad case: statistics taken while nothing is pending.
	await database.db.execute(sql`analyze outbox`);
	await database.db.execute(sql`analyze outbox_heads`);
}

/** Idle customers as the real write path leaves them: one item each, enqueued and finished. */
async function addIdleCustomers(database: Database) {
	const chunk = 5_000;
	for (let done = 0; done < IDLE_CUSTOMERS; done += chunk) {
		const n = Math.min(chunk, IDLE_CUSTOMERS - done);
		const ids = await database.db.execute<{ id: number | string }>(sql`
			with c as (insert into customers (display_name)
				select 'idle' || g from generate_series(1, ${n}) g returning id),
			o as (insert into outbox (customer_id, kind, payload) select id, 'topic_message', '{}'::jsonb
				from c returning id, customer_id, target, priority, next_attempt_at),
			h as (insert into outbox_heads (customer_id, head_id, target, priority, ready_at)
				select customer_id, id, target, priority, next_attempt_at from o)
			select id from o`);
		const rows = Array.isArray(ids) ? ids : (ids as { rows: { id: number | string }[] }).rows;
		await rawQuery(database.db, "select outbox_finish($1::text::bigint[])", [
			arrayLiteral(rows.map((row) => Number(row.id))),
		]);
	}
}

async function fill(database: Database, size: number) {
	await database.db.execute(sql`
		insert into outbox (customer_id, kind, payload, target, priority)
		select c.id, case when g % 20 = 0 then 'dm_text' else 'topic_message' end, '{}'::jsonb,
			case when g % 20 = 0 then 'dm' else 'group' end, case when g % 10 = 0 then 1 else 0 end
		from generate_series(0, ${size - 1}) g
		join (select id, row_number() over (order by id) - 1 as n from customers) c
			on c.n = g % ${CUSTOMERS}
		order by g`);
	// What the enqueues' upserts leave: each queue's oldest item is its head.
	await database.db.execute(sql`
		insert into outbox_heads (customer_id, head_id, target, priority, ready_at)
		select distinct on (customer_id) customer_id, id, target, priority, next_attempt_at
		from outbox where state = 'pending' order by customer_id, id
		on conflict (customer_id) do update set head_id = excluded.head_id, target = excluded.target,
			priority = excluded.priority, ready_at = excluded.ready_at`);
}

async function oldFirstClaim(database: Database, engine: string, size: number) {
	if (engine === "pglite" && size > 2_000) return "not run";
	const started = performance.now();
	try {
		await database.db.transaction(async (tx) => {
			if (engine === "postgres")
				await tx.execute(sql.raw(`set local statement_timeout = ${OLD_TIMEOUT_MS}`));
			await tx.execute(sql.raw(OLD_CLAIM));
			tx.rollback();
		});
	} catch (error) {
		if (!String(error).includes("Rollback")) {
			if (String(error).includes("statement timeout")) return `> ${OLD_TIMEOUT_MS / 1000} s`;
			throw error;
		}
	}
	return performance.now() - started;
}

async function drain(database: Database, size: number) {
	const claimMs: number[] = [];
	const finishMs: number[] = [];
	const target = Math.min(size, MEASURED);
	let drained = 0;
	const started = performance.now();
	while (drained < target) {
		const at = new Date().toISOString();
		const lease = new Date(Date.now() + 60_000).toISOString();
		const t0 = performance.now();
		const claimed = await rawQuery<{ id: number | string }>(database.db, CLAIM_SQL, [
			BATCH,
			BATCH,
			at,
			lease,
			0,
		]);
		const t1 = performance.now();
		claimMs.push(t1 - t0);
		const ids = claimed.map((row) => Number(row.id));
		if (ids.length === 0) throw new Error(`nothing claimed after ${drained} of ${size}`);
		await rawQuery(database.db, "select outbox_finish($1::text::bigint[])", [arrayLiteral(ids)]);
		finishMs.push(performance.now() - t1);
		drained += ids.length;
	}
	const elapsed = performance.now() - started;
	return {
		claim: summarize(claimMs),
		finish: summarize(finishMs),
		perSecond: (drained * 1000) / elapsed,
		drained,
	};
}

async function reset(database: Database) {
	await database.db.execute(sql`delete from outbox where state = 'pending'`);
	await database.db.execute(
		sql`update outbox_heads set head_id = null, target = 'idle', ready_at = 'infinity' where head_id is not null`,
	);
}

async function open(url: string | undefined, dir: string) {
	return openDatabase(url ? { databaseUrl: url, dataDir: "" } : { dataDir: dir });
}

/** "Before": the old claim's first claim at each size, on a database with the old index. */
async function runOld(engine: "postgres" | "pglite", url?: string) {
	const dir = engine === "pglite" ? mkdtempSync(join(tmpdir(), "td-claims-old-")) : "";
	const database = await open(url, dir);
	const times: (number | string)[] = [];
	try {
		await setUp(database, engine, true);
		for (const size of SIZES) {
			await fill(database, size);
			times.push(await oldFirstClaim(database, engine, size));
			await reset(database);
		}
	} finally {
		await database.close();
		if (dir) rmSync(dir, { recursive: true, force: true });
	}
	return times;
}

async function runEngine(engine: "postgres" | "pglite", url?: string): Promise<Row[]> {
	const old = await runOld(engine, url);
	if (url) {
		// A second database for "after": the old run's tables stay behind in the first.
		const admin = await openDatabase({ databaseUrl: url, dataDir: "" });
		await admin.db.execute(sql.raw("drop schema public cascade"));
		await admin.db.execute(sql.raw("create schema public"));
		await admin.close();
	}
	const dir = engine === "pglite" ? mkdtempSync(join(tmpdir(), "td-claims-")) : "";
	const database = await open(url, dir);
	const rows: Row[] = [];
	try {
		await setUp(database, engine, false);
		for (const [index, size] of SIZES.entries()) {
			await fill(database, size);
			const oldFirstMs = old[index] ?? "—";
			const result = await drain(database, size);
			const row = { engine, backlog: size, oldFirstMs, ...result };
			log(
				`${engine} ${count(size)}: old first claim ${typeof oldFirstMs === "number" ? `${fixed(oldFirstMs)} ms` : oldFirstMs}; claim p50/p99 ${fixed(result.claim.p50, 2)} / ${fixed(result.claim.p99, 2)} ms, finish p50 ${fixed(result.finish.p50, 2)} ms, ${count(result.perSecond)} deliveries/s over ${count(result.drained)}`,
			);
			rows.push(row);
			await reset(database);
		}
	} finally {
		await database.close();
		if (dir) rmSync(dir, { recursive: true, force: true });
	}
	return rows;
}

const db = await createBenchDatabase();
const machine = describeMachine(serviceDir, db.version);
let rows: Row[] = [];
try {
	rows = [...(await runEngine("postgres", db.url)), ...(await runEngine("pglite"))];
} finally {
	await db.drop();
}
const report = [
	`Forced bad case: ${count(CUSTOMERS)} customers with a backlog and ${count(IDLE_CUSTOMERS)} idle ones (one delivered item each, finished through \`outbox_finish\`), ${count(DONE_ROWS)} more delivered items, \`ANALYZE outbox, outbox_heads\` with nothing pending (autovacuum off on both tables on PostgreSQL), then each backlog (item i → customer i mod ${count(CUSTOMERS)}, 10% priority 1, 5% DM). A claim is the worker's \`CLAIM_SQL\` for 32 group heads + 32 DM heads (prepared, wall time from the client); each batch is finished with one \`outbox_finish\` call. Rate over the first ${count(MEASURED)} deliveries (all of 2,000). "Before" is the previous claim's selecting part on the same data, first claim only.`,
	"",
	table(
		[
			"engine",
			"backlog",
			"before: first claim",
			"after: claim p50 / p99",
			"after: finish p50",
			"after: drain rate",
		],
		rows.map((r) => [
			r.engine === "postgres" ? db.version : "PGlite 0.5",
			count(r.backlog),
			typeof r.oldFirstMs === "number" ? `${fixed(r.oldFirstMs)} ms` : r.oldFirstMs,
			`**${fixed(r.claim.p50, 2)} / ${fixed(r.claim.p99, 2)} ms**`,
			`${fixed(r.finish.p50, 2)} ms`,
			`**${count(r.perSecond)}/s**`,
		]),
	),
].join("\n");
publishReport("claims", machine, report);
