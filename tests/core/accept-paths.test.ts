/**
 * A customer's message writes the same rows whether it is recorded alone or in a batch with other
 * customers' messages (the group commit), and whether the web door's accept or another caller
 * records it: messages, outbox items and their queue head, timers, ticket events and the
 * customer's activity. A message that must change the ticket (closed, waiting) changes it first,
 * in a batch too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { recordCustomerMessages } from "../../src/core/customer-messages.ts";
import { acceptCustomerMessage, createMessageBatches } from "../../src/core/messages.ts";
import { type CoreDeps, commit, type MessageBatches } from "../../src/core/unit-of-work.ts";
import type { Database } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createTexts } from "../../src/i18n/texts.ts";
import { createLocalBus } from "../../src/realtime/local-bus.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let database: Database;
let deps: CoreDeps;
let batches: MessageBatches;

const SLA_FIRST = 600_000;

beforeAll(async () => {
	db = await freshDatabase();
	database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
	const { migrate } = await import("../../src/db/migrate.ts");
	await migrate(database);
	deps = {
		database,
		texts: createTexts("en"),
		policy: {
			slaReminders: [SLA_FIRST, 1_800_000],
			waitingReminder: 60_000,
			waitingAutoclose: 120_000,
		},
		bus: createLocalBus(),
		wakeOutbox: () => {},
	};
	batches = createMessageBatches(deps);
});
afterAll(async () => {
	await database?.close();
	await db?.drop();
});

async function customer(status: string): Promise<string> {
	const [row] = await database.query<{ id: string }>(
		sql`insert into customers (display_name, status) values ('Visitor', ${status}) returning id`,
	);
	return row?.id as string;
}

interface Send {
	text: string;
	clientMessageId?: string;
}

type Path = (customerId: string, send: Send) => Promise<unknown>;

/** The web door's accept, through the service's group commit. */
const webPath: Path = async (customerId, send) => {
	const accepted = await acceptCustomerMessage(
		{ ...deps, messageBatches: batches },
		{ customerId, channel: "web", ...send },
	);
	expect(accepted.duplicate).toBe(false);
};
/** In one transaction with another customer's message. */
const batchPath =
	(companion: string): Path =>
	async (customerId, send) => {
		const recorded = await commit(deps, (work) =>
			recordCustomerMessages(work, [
				{ customerId, channel: "web", ...send },
				{ customerId: companion, channel: "web", text: "alongside" },
			]),
		);
		expect(recorded.map((r) => r.kind)).toEqual(["stored", "stored"]);
		const [stored, other] = recorded.map((r) => (r.kind === "stored" ? r.message : undefined));
		// One transaction: both messages carry its time.
		expect(other?.createdAt).toBe(stored?.createdAt);
	};
const alonePath: Path = (customerId, send) =>
	commit(deps, (work) => recordCustomerMessages(work, [{ customerId, channel: "web", ...send }]));

const ms = (value: unknown) => new Date(value as string).getTime();

/** Everything a customer's messages wrote, with ids replaced by positions so two can compare. */
async function rowsOf(customerId: string) {
	const messages = await database.query<Record<string, unknown>>(sql`
		select id, author, channel, text, client_message_id, reply_to_id, media_id, entities,
			edited_at, created_at
		from messages where customer_id = ${customerId} order by seq`);
	const position = new Map(messages.map((m, index) => [String(m.id), `message#${index}`]));
	const outbox = await database.query<Record<string, unknown>>(sql`
		select id, kind, payload, target, priority, state, attempts, last_error
		from outbox where customer_id = ${customerId} order by id`);
	const itemPosition = new Map(outbox.map((o, index) => [Number(o.id), `item#${index}`]));
	const heads = await database.query<Record<string, unknown>>(sql`
		select head_id, target, priority from outbox_heads where customer_id = ${customerId}`);
	const timers = await database.query<Record<string, unknown>>(sql`
		select kind, step, since, fire_at, attempts, parked_at
		from timers where customer_id = ${customerId} order by kind`);
	const events = await database.query<Record<string, unknown>>(sql`
		select kind, actor, from_status, to_status from ticket_events
		where customer_id = ${customerId} order by id`);
	const [self] = await database.query<Record<string, unknown>>(sql`
		select status, last_message_at from customers where id = ${customerId}`);
	const firstAt = ms(messages[0]?.created_at);
	const lastAt = ms(messages.at(-1)?.created_at);
	return {
		messages: messages.map(({ id, created_at, ...rest }) => rest),
		outbox: outbox.map(({ id, payload, ...rest }) => {
			const { messageId, ...other } = payload as { messageId?: string };
			return { ...rest, payload: { ...other, message: position.get(String(messageId)) } };
		}),
		heads: heads.map(({ head_id, ...rest }) => ({
			...rest,
			head: itemPosition.get(Number(head_id)),
		})),
		timers: timers.map(({ since, fire_at, ...rest }) => ({
			...rest,
			// The fire time is the policy's first step after the clock's start, exactly.
			firesAfterMs: ms(fire_at) - ms(since),
			// The clock starts at the first unanswered message (a few ms apart at most).
			startsAtFirstMessage: Math.abs(ms(since) - firstAt) < 1000,
		})),
		events,
		customer: {
			status: self?.status,
			lastActivityAtLastMessage: Math.abs(ms(self?.last_message_at) - lastAt) < 1000,
		},
	};
}

describe("a customer's message writes the same rows alone, in a batch, through the web door", () => {
	const sends: Send[][] = [
		[{ text: "Hello, my order has not arrived", clientMessageId: "c-1" }],
		[{ text: "first" }, { text: "second, the clock keeps running", clientMessageId: "c-2" }],
		[{ text: "Ünïcödé ✓ and\nnew lines\tand tabs", clientMessageId: "x".repeat(128) }],
	];
	for (const status of ["NEW", "IN_PROGRESS"])
		for (const [index, sequence] of sends.entries())
			test(`${status} ticket, sequence ${index + 1}`, async () => {
				const web = await customer(status);
				const batched = await customer(status);
				const alone = await customer(status);
				const inBatch = batchPath(await customer(status));
				for (const send of sequence) {
					await webPath(web, send);
					await inBatch(batched, send);
					await alonePath(alone, send);
				}
				const webRows = await rowsOf(web);
				expect(webRows).toEqual(await rowsOf(alone));
				expect(await rowsOf(batched)).toEqual(webRows);
				// What all wrote, spelled out once: one copy per message and an SLA clock.
				expect(webRows.outbox).toHaveLength(sequence.length);
				expect(webRows.heads as unknown[]).toEqual([
					{ target: "group", priority: 0, head: "item#0" },
				]);
				expect(webRows.timers).toMatchObject([
					{ kind: "sla", step: 0, firesAfterMs: SLA_FIRST, startsAtFirstMessage: true },
				]);
				expect(webRows.customer).toEqual({ status, lastActivityAtLastMessage: true });
			});

	test("a closed ticket reopens and a waiting one resumes, the notice filed before the copy", async () => {
		for (const [status, next, event] of [
			["CLOSED", "NEW", "REOPENED"],
			["WAITING_CLIENT", "IN_PROGRESS", "STATUS_CHANGED"],
		] as const) {
			const web = await customer(status);
			const batched = await customer(status);
			await webPath(web, { text: "back again" });
			await batchPath(await customer("IN_PROGRESS"))(batched, { text: "back again" });
			const rows = await rowsOf(web);
			expect(await rowsOf(batched)).toEqual(rows);
			expect(rows.customer).toEqual({ status: next, lastActivityAtLastMessage: true });
			expect(rows.events).toEqual([
				{ kind: event, actor: "customer", from_status: status, to_status: next },
			]);
			expect(rows.outbox.map((item) => (item as { kind?: unknown }).kind)).toEqual([
				"topic_notice",
				"card",
				"topic_message",
			]);
			expect(rows.heads as unknown[]).toMatchObject([{ head: "item#0" }]);
			expect(rows.timers).toMatchObject([{ kind: "sla", step: 0 }]);
		}
	});

	test("a repeated clientMessageId stores nothing and answers the stored message", async () => {
		const id = await customer("IN_PROGRESS");
		const first = await acceptCustomerMessage(
			{ ...deps, messageBatches: batches },
			{ customerId: id, channel: "web", text: "once", clientMessageId: "k-1" },
		);
		const [again, alone] = await Promise.all([
			acceptCustomerMessage(
				{ ...deps, messageBatches: batches },
				{ customerId: id, channel: "web", text: "once", clientMessageId: "k-1" },
			),
			acceptCustomerMessage(deps, {
				customerId: id,
				channel: "web",
				text: "once",
				clientMessageId: "k-1",
			}),
		]);
		expect(again).toEqual({ message: first.message, duplicate: true });
		expect(alone).toEqual({ message: first.message, duplicate: true });
		const rows = await rowsOf(id);
		expect(rows.messages).toHaveLength(1);
		expect(rows.outbox).toHaveLength(1);
	});
});
