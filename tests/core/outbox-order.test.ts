/**
 * The outbox's serving order against a real database: per customer strictly in order,
 * customer messages before reminders and card edits, and a chatty customer cannot starve others.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/client.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { enqueueOutbox } from "../../src/outbox/enqueue.ts";
import { createFloodBudget } from "../../src/outbox/flood-budget.ts";
import { createOutboxWorker } from "../../src/outbox/worker.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let database: Database;

beforeAll(async () => {
	db = await freshDatabase();
	database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
	const { migrate } = await import("../../src/db/migrate.ts");
	await migrate(database);
});
afterAll(async () => {
	await database?.close();
	await db?.drop();
});

async function customer(name: string): Promise<string> {
	const [row] = await database.query<{ id: string }>(
		sql`insert into customers (display_name) values (${name}) returning id`,
	);
	return row?.id as string;
}

async function enqueue(customerId: string, kind: string, label: string, priority: number) {
	await database.query(sql`insert into outbox (customer_id, kind, payload, target, priority)
		values (${customerId}, ${kind}, ${JSON.stringify({ label })}::jsonb, 'group', ${priority})`);
}

/** Delivers everything through a group budget of `perWindow` calls per 50 ms; the order. */
async function deliverAll(count: number, perWindow = 1): Promise<string[]> {
	const delivered: string[] = [];
	const budget = createFloodBudget({
		groupPerWindow: perWindow,
		groupWindowMs: 50,
		privatePerSecond: 100,
		globalPerSecond: 100,
	});
	const record = async ({ item }: { item: { payload: Record<string, unknown> } }) => {
		budget.record("group");
		delivered.push(String(item.payload.label));
	};
	const worker = createOutboxWorker({
		database,
		log: silentLogger,
		handlers: { topic_message: record, card: record, card_pin: record },
		budget,
		idlePollMs: 20,
	});
	worker.start();
	const deadline = Date.now() + 15_000;
	while (delivered.length < count && Date.now() < deadline) await Bun.sleep(20);
	await worker.stop();
	return delivered;
}

describe("outbox serving order", () => {
	test("order per customer, round-robin between customers, customer messages before card edits", async () => {
		const chatty = await customer("chatty");
		const quiet = await customer("quiet");
		const other = await customer("other");
		// The chatty customer queued five messages before anyone else wrote.
		for (let i = 1; i <= 5; i++) await enqueue(chatty, "topic_message", `chatty ${i}`, 0);
		await enqueue(other, "card", "other card", 1);
		await enqueue(quiet, "topic_message", "quiet 1", 0);
		const order = await deliverAll(7);
		expect(order).toHaveLength(7);
		// Each customer's own items keep their order.
		expect(order.filter((l) => l.startsWith("chatty"))).toEqual([
			"chatty 1",
			"chatty 2",
			"chatty 3",
			"chatty 4",
			"chatty 5",
		]);
		// The quiet customer does not wait behind the chatty one's whole queue.
		expect(order.indexOf("quiet 1")).toBeLessThan(order.indexOf("chatty 3"));
		// A customer's message goes before another customer's card edit that was queued earlier.
		expect(order.indexOf("quiet 1")).toBeLessThan(order.indexOf("other card"));
	}, 20_000);

	test("a card edit or a pin queued first never holds its customer's message back", async () => {
		const pinned = await customer("pinned");
		const edited = await customer("edited");
		const busy = await customer("busy");
		const idle = await customer("idle");
		await enqueue(pinned, "card_pin", "pinned pin", 3);
		await enqueue(pinned, "topic_message", "pinned 1", 0);
		await enqueue(edited, "card", "edited card", 2);
		await enqueue(edited, "topic_message", "edited 1", 0);
		for (let i = 1; i <= 4; i++) await enqueue(busy, "topic_message", `busy ${i}`, 0);
		await enqueue(idle, "card_pin", "idle pin", 3);
		const order = await deliverAll(9, 3);
		expect(order).toHaveLength(9);
		// The messages filed behind a pin and a card edit go in the first round, not after every
		// other customer's messages.
		expect(order.indexOf("pinned 1")).toBeLessThan(order.indexOf("busy 2"));
		expect(order.indexOf("edited 1")).toBeLessThan(order.indexOf("busy 2"));
		// The edit follows its customer's message; the pins wait for the group to be idle.
		expect(order.indexOf("edited card")).toBeGreaterThan(order.indexOf("edited 1"));
		expect(order.slice(-2).sort()).toEqual(["idle pin", "pinned pin"]);
	}, 20_000);

	test("a message filed behind a waiting pin or card edit becomes its queue's head", async () => {
		const head = async (customerId: string) => {
			const [row] = await database.query<{
				kind: string | null;
			}>(sql`select o.kind from outbox_heads h
				left join outbox o on o.id = h.head_id where h.customer_id = ${customerId}`);
			return row?.kind;
		};
		const file = (customerId: string, item: Parameters<typeof enqueueOutbox>[2]) =>
			database.db.transaction((tx) => enqueueOutbox(tx, customerId, item));
		const waiting = await customer("waiting");
		await file(waiting, { kind: "card_pin", cardMessageId: 7 });
		expect(await head(waiting)).toBe("card_pin");
		await file(waiting, { kind: "card" });
		expect(await head(waiting)).toBe("card");
		await file(waiting, { kind: "topic_message", messageId: crypto.randomUUID() });
		expect(await head(waiting)).toBe("topic_message");
		// A later card edit does not take the place of the message.
		await file(waiting, { kind: "card" });
		expect(await head(waiting)).toBe("topic_message");
	});
});
