/**
 * Web messages accepted by the hot path reach the worker: the accept files each topic copy and
 * wakes the worker, which claims it. What must hold: every copy is delivered once, with one
 * attempt, and in order per customer; a copy behind one in flight waits its turn; two first
 * messages of a new customer racing for its queue's head both go; a copy accepted while the
 * worker is stopped waits in the queue until it starts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import type { CoreDeps } from "../../src/core/unit-of-work.ts";
import type { Database } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { OutboxHandler } from "../../src/outbox/delivery.ts";
import { ENQUEUE_SQL, enqueueParams } from "../../src/outbox/enqueue.ts";
import { createOutboxWorker, type OutboxWorker } from "../../src/outbox/worker.ts";
import { landedIn, sendWebText, workerDeps } from "../support/core-deps.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { until } from "../support/settle.ts";

let db: TestDatabase;
let database: Database;
let worker: OutboxWorker;
let deps: CoreDeps;
/** Delivered texts per customer, and how many came with their message read by the claim. */
const delivered = new Map<string, string[]>();
let prefetchedCount = 0;
/** Lets a test hold deliveries in flight. */
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
	db = await freshDatabase();
	database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
	await migrate(database);
	const topicMessage: OutboxHandler = async ({ item, finish }) => {
		await gate;
		const message = item.prefetched?.message;
		if (message) prefetchedCount++;
		const text =
			message?.text ??
			(
				await database.query<{ text: string }>(
					sql`select text from messages where id = ${String(item.payload.messageId)}`,
				)
			)[0]?.text;
		const list = delivered.get(item.customerId) ?? [];
		list.push(String(text));
		delivered.set(item.customerId, list);
		await finish([]);
	};
	worker = createOutboxWorker({
		database,
		handlers: { topic_message: topicMessage },
		log: silentLogger,
		// No poll to lean on: every item must be found by a wake-up or the claim after a delivery.
		idlePollMs: 60_000,
	});
	deps = workerDeps(database, worker);
	worker.start();
});
afterAll(async () => {
	await worker?.stop();
	await database?.close();
	await db?.drop();
});

async function newCustomer(): Promise<string> {
	const [row] = await database.query<{ id: string }>(
		sql`insert into customers (display_name, status) values ('Visitor', 'NEW') returning id`,
	);
	return row?.id as string;
}

const send = (customerId: string, text: string) => sendWebText(deps, customerId, text);

const landed = (customerId: string, count: number) => landedIn(delivered, customerId, count);

async function items(customerId: string) {
	return database.query<{ state: string; attempts: number }>(
		sql`select state, attempts from outbox where customer_id = ${customerId} order by id`,
	);
}

describe("web messages from the accept to the worker", () => {
	test("a copy is delivered once, with one attempt and its message read by the claim; its queue is idle after", async () => {
		const customer = await newCustomer();
		const before = prefetchedCount;
		expect(await send(customer, "hello")).not.toBeNull();
		await landed(customer, 1);
		expect(delivered.get(customer)).toEqual(["hello"]);
		expect(prefetchedCount).toBe(before + 1);
		await until(
			"the item done",
			async () => ((await items(customer))[0]?.state === "done" ? true : undefined),
			5000,
		);
		expect(await items(customer)).toEqual([{ state: "done", attempts: 1 }]);
		const [head] = await database.query<{ target: string; head_id: number | null }>(
			sql`select target, head_id from outbox_heads where customer_id = ${customer}`,
		);
		expect(head).toEqual({ target: "idle", head_id: null });
	});

	test("copies behind one in flight wait their turn and go in order", async () => {
		const customer = await newCustomer();
		let open: () => void = () => {};
		gate = new Promise((resolve) => (open = resolve));
		await send(customer, "one");
		await send(customer, "two");
		await send(customer, "three");
		// "one" is in flight; the others are queued behind it.
		expect(delivered.get(customer)).toBeUndefined();
		open();
		await landed(customer, 3);
		expect(delivered.get(customer)).toEqual(["one", "two", "three"]);
	});

	test("first messages racing for a new customer's head: each once", async () => {
		const customers = await Promise.all(Array.from({ length: 20 }, () => newCustomer()));
		await Promise.all(
			customers.flatMap((customer) => [send(customer, "first"), send(customer, "second")]),
		);
		for (const customer of customers) {
			await landed(customer, 2);
			// Both once. Which of two messages sent at the same instant goes first is not defined.
			expect((delivered.get(customer) ?? []).toSorted()).toEqual(["first", "second"]);
		}
	}, 30_000);

	test("a copy accepted behind another transaction's first item of the customer goes after it", async () => {
		const customer = await newCustomer();
		if (!db.url) {
			// PGlite runs one statement at a time: an accept always sees the head the other made.
			await Promise.all([send(customer, "zero"), send(customer, "one")]);
			await landed(customer, 2);
			expect((await items(customer)).map((item) => item.attempts)).toEqual([1, 1]);
			return;
		}
		// Forced on PostgreSQL: another transaction files "zero" as the first item of this new
		// customer and holds its commit. The accept of "one" sees no head row yet, files its copy,
		// then waits on that row; once "zero" commits, "zero" is the head and "one" queues behind.
		const other = postgres(db.url, { max: 1, onnotice: () => {} });
		try {
			let commit: () => void = () => {};
			const held = new Promise<void>((resolve) => (commit = resolve));
			let inPlace: () => void = () => {};
			const zeroInPlace = new Promise<void>((resolve) => (inPlace = resolve));
			const filed = other.begin(async (tx) => {
				const [message] = await tx<{ id: string }[]>`insert into messages
					(customer_id, author, channel, text) values (${customer}, 'user', 'web', 'zero')
					returning id`;
				await tx.unsafe(ENQUEUE_SQL, [
					...enqueueParams([
						{
							customerId: customer,
							item: { kind: "topic_message", messageId: message?.id as string },
						},
					]),
				]);
				inPlace();
				await held;
			});
			await zeroInPlace;
			const accepted = send(customer, "one");
			await until(
				"the accept waiting for the other transaction's head row",
				async () => {
					const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n
						from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
					return Number(row?.n) > 0 ? true : undefined;
				},
				5000,
			);
			commit();
			await filed;
			expect(await accepted).not.toBeNull();
			// Nothing woke the worker for "zero" but the accept of "one" does.
			await landed(customer, 2);
			expect(delivered.get(customer)).toEqual(["zero", "one"]);
			expect((await items(customer)).map((item) => item.attempts)).toEqual([1, 1]);
		} finally {
			await other.end();
		}
	}, 20_000);

	test("a copy accepted while the worker is stopped waits in the queue and goes once it starts", async () => {
		await worker.stop();
		const customer = await newCustomer();
		await send(customer, "while stopped");
		expect(await items(customer)).toEqual([{ state: "pending", attempts: 0 }]);
		worker.start();
		await landed(customer, 1);
		expect(delivered.get(customer)).toEqual(["while stopped"]);
	});
});
