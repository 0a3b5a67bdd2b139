/**
 * The outbox needs no poll to keep going: with the safety-net poll set to
 * a minute, every item still goes, each found by a wake-up or by the claim after a delivery —
 * a customer's next item behind the one delivered, items written while one is in flight,
 * notices about no one customer. The worker skips the claim after a delivery only when nothing
 * can be waiting; a wrong skip would leave an item to the poll and this test would time out.
 */
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/observability/logger.ts";
import type { OutboxHandler } from "../../src/outbox/delivery.ts";
import { enqueueOutbox } from "../../src/outbox/enqueue.ts";
import { createOutboxWorker } from "../../src/outbox/worker.ts";
import { insertCustomer, useMigratedDatabase } from "../support/db.ts";

const migrated = useMigratedDatabase();
const customer = (name: string) => insertCustomer(migrated(), name);

describe("outbox without the poll", () => {
	test("queues behind deliveries, writes during deliveries and customer-less notices all go", async () => {
		const delivered: string[] = [];
		let worker: ReturnType<typeof createOutboxWorker> | undefined;
		const enqueue = async (customerId: string | null, text: string) => {
			await migrated().db.transaction((tx) =>
				enqueueOutbox(
					tx,
					customerId,
					customerId
						? { kind: "topic_text", text }
						: { kind: "group_notice", text: "noticeUpdateFailed", vars: { text } },
				),
			);
			// As the unit of work does after a commit.
			worker?.wake();
		};
		const a = await customer("a");
		const b = await customer("b");
		// A queue of five before the worker starts: each next one is found after a delivery.
		for (let i = 1; i <= 5; i++) await enqueue(a, `a${i}`);
		const label = (payload: Record<string, unknown>) =>
			String(
				payload.text === "noticeUpdateFailed"
					? (payload.vars as { text: string }).text
					: payload.text,
			);
		const handler: OutboxHandler = async ({ item }) => {
			const text = label(item.payload);
			// While b's first item is in flight, b writes two more; notices are queued during the last.
			if (text === "b1") {
				await enqueue(b, "b2");
				await enqueue(b, "b3");
			}
			if (text === "b3") {
				await enqueue(null, "n1");
				await enqueue(null, "n2");
			}
			await Bun.sleep(2);
			delivered.push(text);
		};
		worker = createOutboxWorker({
			database: migrated(),
			log: silentLogger,
			handlers: { topic_text: handler, group_notice: handler },
			idlePollMs: 60_000,
			repairMs: 60_000,
		});
		worker.start();
		try {
			const deadline = Date.now() + 10_000;
			while (delivered.length < 5 && Date.now() < deadline) await Bun.sleep(10);
			// The desk is idle now; a lone message later is woken for, then its followers.
			await enqueue(b, "b1");
			while (delivered.length < 10 && Date.now() < deadline) await Bun.sleep(10);
			expect(delivered.filter((t) => t.startsWith("a"))).toEqual(["a1", "a2", "a3", "a4", "a5"]);
			expect(delivered.filter((t) => t.startsWith("b"))).toEqual(["b1", "b2", "b3"]);
			expect(delivered.filter((t) => t.startsWith("n"))).toEqual(["n1", "n2"]);
		} finally {
			await worker.stop();
		}
	}, 20_000);

	test("an item filed behind one in flight goes, also when a claim ran in between and found nothing", async () => {
		// The private chat's work: no group item in flight that would keep the claims going. The
		// item in flight has nothing behind it when claimed, so its finish may wait to share a
		// statement; the item filed meanwhile becomes its queue's head only with that finish, and
		// the claim that the filing woke could not see it. The delivery's end must claim again.
		const delivered: string[] = [];
		let worker: ReturnType<typeof createOutboxWorker> | undefined;
		const c = await customer("c");
		const enqueue = async (text: "dmGreeting" | "dmSlowDown") => {
			await migrated().db.transaction((tx) => enqueueOutbox(tx, c, { kind: "dm_text", text }));
			worker?.wake();
		};
		const handler: OutboxHandler = async ({ item }) => {
			if (item.payload.text === "dmGreeting") {
				await enqueue("dmSlowDown");
				// Long enough for the claim that the filing woke to run and find nothing.
				await Bun.sleep(100);
			}
			delivered.push(String(item.payload.text));
		};
		worker = createOutboxWorker({
			database: migrated(),
			log: silentLogger,
			handlers: { dm_text: handler },
			idlePollMs: 60_000,
			repairMs: 60_000,
		});
		worker.start();
		try {
			await enqueue("dmGreeting");
			const deadline = Date.now() + 10_000;
			while (delivered.length < 2 && Date.now() < deadline) await Bun.sleep(10);
			expect(delivered).toEqual(["dmGreeting", "dmSlowDown"]);
		} finally {
			await worker.stop();
		}
	}, 20_000);
});
