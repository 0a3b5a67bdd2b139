/**
 * Web messages that arrive together share one transaction (the group commit, group-commit.ts):
 * each is stored once, echoed once, in order per customer, with its topic copy; a message the
 * database refuses fails alone; a customer whose row another transaction holds does not hold up
 * the others' messages; a message alone is stored at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import type { CustomerEvent } from "../../src/core/events.ts";
import { acceptCustomerMessage, createMessageBatches } from "../../src/core/messages.ts";
import type { CoreDeps } from "../../src/core/unit-of-work.ts";
import type { Database } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createTexts } from "../../src/i18n/texts.ts";
import { createLocalBus } from "../../src/realtime/local-bus.ts";
import { freshDatabase, onPostgres, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let database: Database;
let deps: CoreDeps;
const echoes: [string, CustomerEvent][] = [];

beforeAll(async () => {
	db = await freshDatabase();
	database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
	const { migrate } = await import("../../src/db/migrate.ts");
	await migrate(database);
	const bus = createLocalBus();
	bus.subscribe((customerId, event) => echoes.push([customerId, event]));
	const base: CoreDeps = {
		database,
		texts: createTexts("en"),
		policy: { slaReminders: [600_000], waitingReminder: 60_000, waitingAutoclose: 120_000 },
		bus,
		wakeOutbox: () => {},
	};
	// As the service wires it.
	deps = { ...base, messageBatches: createMessageBatches(base) };
});
afterAll(async () => {
	await database?.close();
	await db?.drop();
});

async function customers(count: number): Promise<string[]> {
	const rows = await database.query<{ id: string }>(
		sql`insert into customers (display_name, status)
			select 'Visitor ' || n, 'IN_PROGRESS' from generate_series(1, ${count}) n returning id`,
	);
	return rows.map((row) => row.id);
}

/**
 * Holds a customer's row in a transaction of another connection (as an operator's reply would)
 * until `release`; `holding` ends with that transaction.
 */
async function holdCustomer(customerId: string) {
	const holder = postgres(db.url as string, { max: 1, onnotice: () => {} });
	let release = () => {};
	const held = new Promise<void>((resolve) => {
		release = resolve;
	});
	let locked = () => {};
	const isLocked = new Promise<void>((resolve) => {
		locked = resolve;
	});
	const holding = holder.begin(async (tx) => {
		await tx`select id from customers where id = ${customerId} for no key update`;
		locked();
		await held;
	});
	await isLocked;
	return { release, holding, holder };
}

const send = (customerId: string, text: string, clientMessageId?: string) =>
	acceptCustomerMessage(deps, { customerId, channel: "web", text, clientMessageId });

const textsOf = async (customerId: string, executor = database.db) =>
	(
		await database.query<{ text: string }>(
			sql`select text from messages where customer_id = ${customerId} order by seq`,
			executor,
		)
	).map((row) => row.text);

describe("accept batches", () => {
	test("many customers writing at once: each message stored, copied and echoed once, in order", async () => {
		const ids = await customers(40);
		const perCustomer = 5;
		// Every message is submitted before any is answered, as when a burst reaches the service.
		const sent = ids.flatMap((id, c) =>
			Array.from({ length: perCustomer }, (_, m) =>
				send(id, `c${c} m${m}: "quoted", {braced}, back\\slash`, `k-${c}-${m}`),
			),
		);
		const accepted = await Promise.all(sent);
		expect(accepted.every((a) => !a.duplicate)).toBe(true);

		for (const [c, id] of ids.entries())
			expect(await textsOf(id)).toEqual(
				Array.from(
					{ length: perCustomer },
					(_, m) => `c${c} m${m}: "quoted", {braced}, back\\slash`,
				),
			);
		const [counts] = await database.query<{ items: number; heads: number; timers: number }>(sql`
			select (select count(*)::int from outbox where customer_id = any(${`{${ids.join(",")}}`}::uuid[])) as items,
				(select count(*)::int from outbox_heads h join outbox o on o.id = h.head_id
					where h.customer_id = any(${`{${ids.join(",")}}`}::uuid[])) as heads,
				(select count(*)::int from timers where customer_id = any(${`{${ids.join(",")}}`}::uuid[])) as timers`);
		expect(counts).toEqual({
			items: ids.length * perCustomer,
			heads: ids.length,
			timers: ids.length,
		});

		// Echoes: one per message, each customer's in the order sent.
		const echoed = new Map<string, string[]>();
		for (const [customerId, event] of echoes)
			if (event.type === "message" && ids.includes(customerId))
				echoed.set(customerId, [...(echoed.get(customerId) ?? []), event.message.text]);
		for (const id of ids) expect(echoed.get(id)).toEqual(await textsOf(id));

		// They shared statements: one statement's messages carry its transaction's time.
		const [{ statements }] = (await database.query<{ statements: number }>(
			sql`select count(distinct created_at)::int as statements from messages
				where customer_id = any(${`{${ids.join(",")}}`}::uuid[])`,
		)) as [{ statements: number }];
		expect(statements).toBeGreaterThanOrEqual(perCustomer);
		expect(statements).toBeLessThan((ids.length * perCustomer) / 4);
	});

	test("a message the database refuses fails alone; the batch's others are stored", async () => {
		const ids = await customers(6);
		// Submitted in one turn of the event loop: one batch, the bad one among the others.
		const results = await Promise.allSettled([
			send(ids[0] as string, "first"),
			...ids.slice(1, 3).map((id) => send(id, "before")),
			send("not-a-customer-id", "refused"),
			...ids.slice(3).map((id) => send(id, "after")),
		]);
		expect(results.map((r) => r.status)).toEqual([
			"fulfilled",
			"fulfilled",
			"fulfilled",
			"rejected",
			"fulfilled",
			"fulfilled",
			"fulfilled",
		]);
		for (const [index, id] of ids.entries())
			expect(await textsOf(id)).toEqual([index === 0 ? "first" : index < 3 ? "before" : "after"]);
	});

	// Two connections at once: PostgreSQL only (PGlite serves one session).
	if (onPostgres)
		test("a customer whose row another transaction holds does not hold up the others", async () => {
			const [busy, ...others] = await customers(5);
			const { release, holding, holder } = await holdCustomer(busy as string);
			try {
				// Submitted in one turn of the event loop, so the busy customer's message shares a
				// batch with the others'.
				let busyDone = false;
				const busySend = send(busy as string, "waits for the lock").then((a) => {
					busyDone = true;
					return a;
				});
				await Promise.all(others.map((id) => send(id, "not held up")));
				for (const id of others) expect(await textsOf(id)).toEqual(["not held up"]);
				expect(busyDone).toBe(false);

				release();
				await holding;
				const accepted = await busySend;
				expect(accepted.duplicate).toBe(false);
				expect(await textsOf(busy as string)).toEqual(["waits for the lock"]);
			} finally {
				await holder.end();
			}
		});

	if (onPostgres)
		test("new customers of one network, one of them held: each conversation's quota is spent once", async () => {
			const ids = await customers(4);
			const network = `net-${crypto.randomUUID()}`;
			await database.query(
				sql`insert into web_sessions (id, customer_id, client_key)
					select gen_random_uuid(), id, ${network} from unnest(${`{${ids.join(",")}}`}::uuid[]) id`,
			);
			const [busy, ...others] = ids;
			const { release, holding, holder } = await holdCustomer(busy as string);
			try {
				const first = (customerId: string) =>
					acceptCustomerMessage(deps, {
						customerId,
						channel: "web",
						text: "first words",
						openingLimit: 10,
					});
				// One turn: the four first messages share a batch, which skips the held customer.
				const busySend = first(busy as string);
				await Promise.all(others.map(first));
				release();
				await holding;
				expect((await busySend).duplicate).toBe(false);
				for (const id of ids) expect(await textsOf(id)).toEqual(["first words"]);
				const [usage] = await database.query<{ used: number }>(
					sql`select used::int as used from quota_usage where key = ${`topic:${network}`}`,
				);
				expect(usage?.used).toBe(4);
			} finally {
				await holder.end();
			}
		});

	test("one customer's messages sent at once go one transaction after another, in order", async () => {
		const [id] = await customers(1);
		const texts = Array.from({ length: 5 }, (_, n) => `in order ${n}`);
		await Promise.all(texts.map((text) => send(id as string, text)));
		expect(await textsOf(id as string)).toEqual(texts);
		const [{ transactions }] = (await database.query<{ transactions: number }>(
			sql`select count(distinct created_at)::int as transactions from messages
				where customer_id = ${id}`,
		)) as [{ transactions: number }];
		expect(transactions).toBe(texts.length);
	});
});
