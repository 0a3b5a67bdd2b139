/**
 * Finishes at a light load: the finish of an item with nothing queued behind it is
 * deferred so that the finishes of deliveries made one after another share one statement. What
 * must hold: each such finish is written (copy and item) within the deferral; a customer's next
 * message does not wait the deferral out; settle() and a graceful stop write what is deferred.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { CoreDeps } from "../../src/core/unit-of-work.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { OutboxHandler } from "../../src/outbox/delivery.ts";
import { createOutboxWorker, type OutboxWorker } from "../../src/outbox/worker.ts";
import { landedIn, sendWebText, workerDeps } from "../support/core-deps.ts";
import { useMigratedDatabase } from "../support/db.ts";
import { until } from "../support/settle.ts";

/** Longer than any wait below: what lands in these tests did not wait the deferral out. */
const LONG_DEFERRAL_MS = 15_000;

const database = useMigratedDatabase();
/** Delivered texts per customer. */
const delivered = new Map<string, string[]>();
let sent = 0;

const topicMessage: OutboxHandler = async ({ item, finish }) => {
	const message = item.prefetched?.message;
	const text =
		message?.text ??
		(
			await database().query<{ text: string }>(
				sql`select text from messages where id = ${String(item.payload.messageId)}`,
			)
		)[0]?.text;
	delivered.set(item.customerId, [...(delivered.get(item.customerId) ?? []), String(text)]);
	await finish([
		{
			messageId: String(item.payload.messageId),
			kind: "topic",
			chatId: -100,
			telegramMessageId: ++sent,
		},
	]);
};

/** A worker with the given deferral, wired to the hot path as the service wires it. */
function startWorker(finishDeferMs: number): { worker: OutboxWorker; deps: CoreDeps } {
	const worker = createOutboxWorker({
		database: database(),
		handlers: { topic_message: topicMessage },
		log: silentLogger,
		// No poll to lean on: every item must be found by a wake-up or the claim after a delivery.
		idlePollMs: 60_000,
		finishDeferMs,
	});
	worker.start();
	return { worker, deps: workerDeps(database(), worker) };
}

async function newCustomer(): Promise<string> {
	const [row] = await database().query<{ id: string }>(
		sql`insert into customers (display_name, status) values ('Visitor', 'NEW') returning id`,
	);
	return row?.id as string;
}

const send = sendWebText;

const landed = (customerId: string, count: number) => landedIn(delivered, customerId, count);

/** Each customer's items: state, when finished, and the copy recorded for its message. */
function items(customers: string[]) {
	return database().query<{ state: string; done_at: string | null; copy: string | null }>(
		sql`select o.state, o.done_at::text, c.telegram_message_id::text as copy
			from outbox o left join message_copies c on c.message_id = (o.payload->>'messageId')::uuid
			where o.customer_id = any(${`{${customers.join(",")}}`}::uuid[]) order by o.id`,
	);
}

describe("finishes at a light load", () => {
	test("deliveries made one after another are finished together, within the deferral", async () => {
		// Long enough that the three deliveries below fit in it on a loaded machine.
		const { worker, deps } = startWorker(3000);
		try {
			const customers = [await newCustomer(), await newCustomer(), await newCustomer()];
			for (const [i, customer] of customers.entries()) {
				await send(deps, customer, `alone ${i}`);
				await landed(customer, 1);
			}
			const rows = await until(
				"the three items done",
				async () => {
					const rows = await items(customers);
					return rows.every((row) => row.state === "done") ? rows : undefined;
				},
				10_000,
			);
			// One statement finished them all: one transaction, one done_at.
			expect(new Set(rows.map((row) => row.done_at)).size).toBe(1);
			expect(rows.every((row) => row.copy !== null)).toBe(true);
		} finally {
			await worker.stop();
		}
	});

	test("a customer's next message goes at once, not after the deferral", async () => {
		const { worker, deps } = startWorker(LONG_DEFERRAL_MS);
		try {
			const customer = await newCustomer();
			await send(deps, customer, "first");
			await landed(customer, 1);
			expect((await items([customer]))[0]?.state).toBe("pending");
			// Filed behind a head whose finish is deferred: the wake-up writes it, then claims.
			await send(deps, customer, "second");
			await landed(customer, 2);
			expect(delivered.get(customer)).toEqual(["first", "second"]);
			expect((await items([customer]))[0]).toMatchObject({ state: "done" });
		} finally {
			await worker.stop();
		}
	});

	test("settle() and a graceful stop write what is deferred", async () => {
		const { worker, deps } = startWorker(LONG_DEFERRAL_MS);
		const settled = await newCustomer();
		const stopped = await newCustomer();
		try {
			await send(deps, settled, "settled");
			await landed(settled, 1);
			expect((await items([settled]))[0]?.state).toBe("pending");
			await worker.settle();
			expect((await items([settled]))[0]).toMatchObject({ state: "done", copy: String(sent) });
			await send(deps, stopped, "stopped");
			await landed(stopped, 1);
			expect((await items([stopped]))[0]?.state).toBe("pending");
		} finally {
			await worker.stop();
		}
		expect((await items([stopped]))[0]).toMatchObject({ state: "done", copy: String(sent) });
	});
});
