/**
 * Shutdown and restarts lose no time: the timer worker's stop() returns only
 * after the tick in flight committed, and the outbox puts back what it had leased, so a restart
 * delivers at once instead of after the 60 s lease.
 */
import { afterEach, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import type { CoreDeps } from "../../src/core/unit-of-work.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createTexts } from "../../src/i18n/texts.ts";
import { createTimerWorker } from "../../src/jobs/timer-worker.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createLocalBus } from "../../src/realtime/local-bus.ts";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, initSession } from "../support/web-client.ts";

let db: TestDatabase | undefined;
let tg: TelegramDouble | undefined;
let service: RunningService | undefined;

afterEach(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
	service = undefined;
	tg = undefined;
	db = undefined;
});

const count = async (running: RunningService, query: ReturnType<typeof sql>) => {
	const [row] = await running.database.query<{ n: number }>(query);
	return Number(row?.n);
};

test("the timer worker's stop() waits for the tick in flight", async () => {
	db = await freshDatabase();
	// The worker alone against the database, no service around it whose own worker would compete.
	const database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
	await migrate(database);
	// Each of the worker's transactions starts 30 ms late, so one tick (several batches) lasts far
	// longer than the 20 ms tick interval; the database underneath is the real one.
	const slowDb = new Proxy(database.db, {
		get(target, key, receiver) {
			const value = Reflect.get(target, key, receiver);
			if (key !== "transaction") return value;
			return async (...args: unknown[]) => {
				await Bun.sleep(30);
				return (value as (...a: unknown[]) => unknown).apply(target, args);
			};
		},
	});
	const core: CoreDeps = {
		database: { ...database, db: slowDb },
		texts: createTexts("en", {}),
		policy: { slaReminders: [600_000], waitingReminder: 60_000, waitingAutoclose: 120_000 },
		bus: createLocalBus(),
		wakeOutbox: () => {},
	};
	const timersLeft = async () => {
		const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n from timers`);
		return Number(row?.n);
	};
	try {
		// 500 due timers of closed tickets: one tick fires them in ten batches of 50.
		await database.db.execute(sql`
			with c as (
				insert into customers (display_name, status)
				select 'T' || g, 'CLOSED' from generate_series(1, 500) g returning id
			)
			insert into timers (customer_id, kind, fire_at)
			select id, 'sla', now() - interval '1 minute' from c`);
		const worker = createTimerWorker(core, silentLogger, 20);
		worker.start();
		// The tick is under way once the first batch is gone…
		while ((await timersLeft()) === 500) await Bun.sleep(5);
		// …and several intervals pass while it runs (one that replaced the promise stop() awaits would
		// let stop() return before this tick committed).
		await Bun.sleep(60);
		expect(await timersLeft()).toBeGreaterThan(0);
		await worker.stop();
		// stop() returned: the tick that was running went on until no batch came back full.
		expect(await timersLeft()).toBe(0);
	} finally {
		await database.close();
	}
}, 60_000);

test("the outbox releases its leases on stop: a restart delivers at once", async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	// The default 60 s lease: a lease left behind would hold the item for a minute.
	service = await startTestService({ db, double: tg });
	const { sessionId } = await initSession(service.url);
	await api(service.url, "POST", "/api/chat/message", {
		session: sessionId,
		body: { text: "one" },
	});
	await tg.waitForCall((c) => c.ok && showsText(c, "[WEB] one"));
	// The next send hangs for ten minutes: it is in flight when the service stops.
	tg.failNext("sendMessage", 1, { drop: true, afterMs: 600_000 });
	const before = tg.calls.length;
	await api(service.url, "POST", "/api/chat/message", {
		session: sessionId,
		body: { text: "two" },
	});
	await (async () => {
		for (;;) {
			const leased = await count(
				service as RunningService,
				sql`select count(*)::int as n from outbox where state = 'pending' and locked_until > now()`,
			);
			// Leased and its call under way: the hanging answer is taken, not waiting for the restart.
			if (leased > 0 && tg.queuedFaults() === 0) return;
			await Bun.sleep(20);
		}
	})();
	await service.stop();
	service = undefined;
	// Stopped: nothing is left leased, and the item is due now.
	const left = await rawRows(
		db,
		`select id from outbox where state = 'pending'
			and (locked_until > now() or next_attempt_at > now() + interval '2 seconds')`,
	);
	expect(left).toEqual([]);
	service = await startTestService({ db, double: tg });
	await tg.waitForCall((c) => c.ok && showsText(c, "[WEB] two"), { since: before });
	// Well under the 30 s a hung call takes to time out: a stop that waited for it (as a process
	// manager's kill timer would not) fails this test.
}, 20_000);

/** Rows read past the service (which closed its connections when it stopped). */
async function rawRows(database: TestDatabase, query: string): Promise<unknown[]> {
	if (database.pglite) return (await database.pglite.query(query)).rows;
	const client = postgres(database.url as string, { max: 1, onnotice: () => {} });
	try {
		return [...(await client.unsafe(query))];
	} finally {
		await client.end();
	}
}
