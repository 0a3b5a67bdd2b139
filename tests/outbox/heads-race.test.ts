/**
 * The outbox heads under contention, on PGlite and PostgreSQL: several
 * enqueuers (each holding the customer row, as every command does; plus customer-less notices)
 * and several workers (separate pools on PostgreSQL, like instances), some deliveries failing
 * once. At the end every item was delivered exactly once, each customer's items in id order and
 * each enqueuer's in the order it wrote them, never two items of one customer in flight, and
 * nothing is left: no pending item, every head idle.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { ClaimedItem, OutboxHandler } from "../../src/outbox/delivery.ts";
import { enqueueOutbox } from "../../src/outbox/enqueue.ts";
import { createOutboxWorker, type OutboxWorker } from "../../src/outbox/worker.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

const CUSTOMERS = 12;
const ENQUEUERS = 4;
const ROUNDS = 60;
const WORKERS = 3;

let db: TestDatabase;
const databases: Database[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	for (let i = 0; i < (db.engine === "postgres" ? WORKERS + 1 : 1); i++)
		databases.push(await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite }));
	await migrate(databases[0] as Database);
});
afterAll(async () => {
	for (const database of databases) await database.close();
	await db?.drop();
});

const rand = (n: number) => Math.floor(Math.random() * n);

describe("outbox heads race", () => {
	test("enqueuers and workers at once: all delivered once, in order, one in flight per customer, nothing left", async () => {
		const main = databases[0] as Database;
		const customers: string[] = [];
		for (let i = 0; i < CUSTOMERS; i++) {
			const [row] = await main.query<{ id: string }>(
				sql`insert into customers (display_name) values (${`c${i}`}) returning id`,
			);
			customers.push(row?.id as string);
		}

		const delivered = new Map<string, number>(); // label → times delivered
		const byQueue = new Map<string, { id: number; label: string }[]>();
		const inFlight = new Map<string, number>();
		let overlaps = 0;
		const failedOnce = new Set<number>();
		const handler: OutboxHandler = async ({ item }: { item: ClaimedItem }) => {
			const queue = item.customerId ?? "none";
			const now = (inFlight.get(queue) ?? 0) + 1;
			inFlight.set(queue, now);
			if (now > 1) overlaps++;
			try {
				await Bun.sleep(rand(3));
				// A few deliveries fail once (a transient error): retried later, order kept.
				if (item.id % 37 === 0 && !failedOnce.has(item.id)) {
					failedOnce.add(item.id);
					throw new Error("transient");
				}
				const label = String(item.payload.text);
				delivered.set(label, (delivered.get(label) ?? 0) + 1);
				const list = byQueue.get(queue) ?? [];
				list.push({ id: item.id, label });
				byQueue.set(queue, list);
			} finally {
				inFlight.set(queue, (inFlight.get(queue) ?? 1) - 1);
			}
		};
		let total = 0;
		const enqueuer = async (e: number) => {
			for (let round = 0; round < ROUNDS; round++) {
				const customerless = rand(10) === 0;
				const customerId = customerless ? null : (customers[rand(CUSTOMERS)] as string);
				const count = 1 + rand(2);
				const labels = Array.from({ length: count }, (_, k) => `e${e}:r${round}:${k}`);
				await main.db.transaction(async (tx) => {
					if (customerId)
						await tx.execute(sql`select 1 from customers where id = ${customerId} for update`);
					for (const text of labels)
						await enqueueOutbox(
							tx,
							customerId,
							customerId
								? { kind: "topic_text", text }
								: { kind: "group_notice", text: "noticeUpdateFailed", vars: { text } },
						);
				});
				total += count;
				for (const worker of workers) worker.wake();
				if (rand(4) === 0) await Bun.sleep(rand(5));
			}
		};
		// group_notice carries its label in vars: read it from there.
		const plain = handler;
		const workers: OutboxWorker[] = [];
		for (let w = 0; w < WORKERS; w++) {
			const database = databases[Math.min(w + 1, databases.length - 1)] as Database;
			const labelled: OutboxHandler = (context) =>
				plain({
					...context,
					item: {
						...context.item,
						payload: {
							text:
								context.item.kind === "group_notice"
									? String((context.item.payload.vars as { text: string }).text)
									: String(context.item.payload.text),
						},
					},
				});
			workers.push(
				createOutboxWorker({
					database,
					log: silentLogger,
					handlers: { topic_text: labelled, group_notice: labelled },
					concurrency: 8,
					idlePollMs: 20,
				}),
			);
		}
		for (const worker of workers) worker.start();

		await Promise.all(Array.from({ length: ENQUEUERS }, (_, e) => enqueuer(e)));
		const deadline = Date.now() + 60_000;
		while (delivered.size < total && Date.now() < deadline) await Bun.sleep(20);
		await Promise.all(workers.map((worker) => worker.stop()));

		expect(delivered.size).toBe(total);
		expect([...delivered.values()].every((times) => times === 1)).toBe(true);
		expect(overlaps).toBe(0);
		for (const [queue, list] of byQueue) {
			// Strictly in id order per customer's queue: enqueuers of one customer serialise on its
			// row. Notices about no one customer have nothing to serialise on: two writers' items can
			// commit out of id order (the later id heading the queue first), so there only each
			// writer's own order holds (below); a run in CI met exactly that.
			const ids = list.map((entry) => entry.id);
			if (queue !== "none")
				expect({ queue, ids }).toEqual({ queue, ids: [...ids].sort((a, b) => a - b) });
			// And each enqueuer's own items in the order it wrote them.
			for (let e = 0; e < ENQUEUERS; e++) {
				const own = list.filter((entry) => entry.label.startsWith(`e${e}:`)).map((x) => x.label);
				const key = (label: string) => {
					const [, r, k] = label.split(":");
					return Number(r?.slice(1)) * 10 + Number(k);
				};
				expect(own.map(key)).toEqual([...own.map(key)].sort((a, b) => a - b));
			}
		}
		const [left] = await main.query<{ pending: number; heads: number }>(
			sql`select (select count(*)::int from outbox where state = 'pending') as pending,
				(select count(*)::int from outbox_heads where head_id is not null) as heads`,
		);
		expect(left).toEqual({ pending: 0, heads: 0 });
	}, 120_000);
});
