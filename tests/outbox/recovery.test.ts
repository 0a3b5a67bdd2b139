/**
 * Recovery after a Telegram outage: while every call fails with a
 * transient error, the worker stops sending everything and probes with one item at a time, so
 * items written during the outage do not each spend an attempt; when a call gets through, the
 * items that backed off during the outage are due at once instead of after their own backoffs
 * (here 24–36 s each). Everything is then delivered once, each customer's items in order.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { silentLogger } from "../../src/observability/logger.ts";
import type { OutboxHandler } from "../../src/outbox/delivery.ts";
import { enqueueOutbox } from "../../src/outbox/enqueue.ts";
import { createOutboxWorker } from "../../src/outbox/worker.ts";
import { insertCustomer, useMigratedDatabase } from "../support/db.ts";

const migrated = useMigratedDatabase();
const customer = (name: string) => insertCustomer(migrated(), name);

async function enqueue(customerId: string, text: string) {
	await migrated().db.transaction((tx) =>
		enqueueOutbox(tx, customerId, { kind: "topic_text", text }),
	);
}

async function until(check: () => boolean | Promise<boolean>, ms: number) {
	const deadline = Date.now() + ms;
	while (!(await check()) && Date.now() < deadline) await Bun.sleep(20);
}

describe("outbox after an outage", () => {
	test("probes with one item while down; backed-off items are due at once when Telegram answers", async () => {
		let down = true;
		const calls: { label: string; at: number; ok: boolean }[] = [];
		const delivered: string[] = [];
		const handler: OutboxHandler = async ({ item }) => {
			const label = String(item.payload.text);
			calls.push({ label, at: Date.now(), ok: !down });
			if (down) throw new Error("fetch failed: 502 Bad Gateway");
			delivered.push(label);
		};
		// Ten customers with two items each, already retried several times: their next backoff
		// after a failure is 30 s (± 20 %).
		const first: string[] = [];
		for (let i = 0; i < 10; i++) {
			const id = await customer(`early ${i}`);
			first.push(id);
			await enqueue(id, `early ${i} #1`);
			await enqueue(id, `early ${i} #2`);
		}
		await migrated().query(sql`update outbox set attempts = 6`);
		const worker = createOutboxWorker({
			database: migrated(),
			log: silentLogger,
			handlers: { topic_text: handler },
			idlePollMs: 50,
			probeFirstMs: 200,
			probeMaxMs: 400,
		});
		worker.start();
		try {
			await until(() => calls.length >= 10, 10_000);
			expect(calls.length).toBeGreaterThanOrEqual(10);
			// Their heads now wait out the backoff: due 24 s or more from now.
			await until(async () => {
				const [row] = await migrated().query<{ n: number }>(sql`select count(*)::int as n
					from outbox_heads where customer_id = any(${`{${first.join(",")}}`}::uuid[])
					and ready_at > now() + interval '20 seconds'`);
				return Number(row?.n) === 10;
			}, 5000);

			// Ten more customers write during the outage: only probes are sent meanwhile, not each
			// new item (it would be ten calls at once, then ten more a second later).
			const during = calls.length;
			for (let i = 0; i < 10; i++) {
				const id = await customer(`during ${i}`);
				await enqueue(id, `during ${i} #1`);
			}
			worker.wake();
			await Bun.sleep(1500);
			const probes = calls.length - during;
			expect(probes).toBeGreaterThanOrEqual(1);
			expect(probes).toBeLessThanOrEqual(6);

			// Telegram answers again: everything lands well before the 24 s backoffs would end.
			down = false;
			const back = Date.now();
			await until(() => delivered.length >= 30, 12_000);
			expect(delivered).toHaveLength(30);
			expect(Date.now() - back).toBeLessThan(12_000);
			// Once each, and each customer's items in order.
			expect(new Set(delivered).size).toBe(30);
			for (let i = 0; i < 10; i++)
				expect(delivered.indexOf(`early ${i} #1`)).toBeLessThan(delivered.indexOf(`early ${i} #2`));
			// Finishes are batched after the handler returns: nothing left once they ran.
			const left = async () => {
				const [row] = await migrated().query<{ n: number }>(
					sql`select count(*)::int as n from outbox where state <> 'done'`,
				);
				return Number(row?.n);
			};
			await until(async () => (await left()) === 0, 5000);
			expect(await left()).toBe(0);
		} finally {
			await worker.stop();
		}
	}, 40_000);
});
