/**
 * The web hot path (`fast-accept.ts`, one statement, in its one-row form and its set form for a
 * batch) and `recordCustomerMessage` (the general path, one transaction) must not drift (issue 9):
 * the same messages sent through each, to customers in the same state, write the same rows —
 * messages, outbox items and their queue head, timers, ticket events and the customer's activity.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { fastAcceptMessage } from "../../src/core/fast-accept.ts";
import { recordCustomerMessage } from "../../src/core/messages.ts";
import { type CoreDeps, commit } from "../../src/core/unit-of-work.ts";
import type { Database } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/client.ts";
import { createTexts } from "../../src/i18n/texts.ts";
import { createLocalBus } from "../../src/realtime/local-bus.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase;
let database: Database;
let deps: CoreDeps;

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

const fastPath: Path = async (customerId, send) => {
	const stored = await fastAcceptMessage(deps, { customerId, channel: "web", ...send }, send.text);
	// The comparison means something only if the hot path really took the message.
	expect(stored).not.toBeNull();
};
/** The same in the set form: each message shares its statement with another customer's. */
const batchPath =
	(companion: string): Path =>
	async (customerId, send) => {
		const [stored, other] = await Promise.all([
			fastAcceptMessage(deps, { customerId, channel: "web", ...send }, send.text),
			fastAcceptMessage(
				deps,
				{ customerId: companion, channel: "web", text: "alongside" },
				"alongside",
			),
		]);
		expect(stored).not.toBeNull();
		expect(other).not.toBeNull();
		// One statement, one transaction: both messages carry its time.
		expect(other?.createdAt).toBe(stored?.createdAt);
	};
const generalPath: Path = (customerId, send) =>
	commit(deps, (work) => recordCustomerMessage(work, { customerId, channel: "web", ...send }));

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

describe("a customer's web message writes the same rows on either path", () => {
	const sends: Send[][] = [
		[{ text: "Hello, my order has not arrived", clientMessageId: "c-1" }],
		[{ text: "first" }, { text: "second, the clock keeps running", clientMessageId: "c-2" }],
		[{ text: "Ünïcödé ✓ and\nnew lines\tand tabs", clientMessageId: "x".repeat(128) }],
	];
	for (const status of ["NEW", "IN_PROGRESS"])
		for (const [index, sequence] of sends.entries())
			test(`${status} ticket, sequence ${index + 1}`, async () => {
				const fast = await customer(status);
				const batched = await customer(status);
				const general = await customer(status);
				const inBatch = batchPath(await customer(status));
				for (const send of sequence) {
					await fastPath(fast, send);
					await inBatch(batched, send);
					await generalPath(general, send);
				}
				const fastRows = await rowsOf(fast);
				expect(fastRows).toEqual(await rowsOf(general));
				expect(await rowsOf(batched)).toEqual(fastRows);
				// What both wrote, spelled out once: one copy per message and an SLA clock.
				expect(fastRows.outbox).toHaveLength(sequence.length);
				expect(fastRows.heads as unknown[]).toEqual([
					{ target: "group", priority: 0, head: "item#0" },
				]);
				expect(fastRows.timers).toMatchObject([
					{ kind: "sla", step: 0, firesAfterMs: SLA_FIRST, startsAtFirstMessage: true },
				]);
				expect(fastRows.customer).toEqual({ status, lastActivityAtLastMessage: true });
			});

	test("a ticket the message must change (closed, waiting) is left to the general path", async () => {
		for (const status of ["CLOSED", "WAITING_CLIENT"]) {
			const id = await customer(status);
			const stored = await fastAcceptMessage(
				deps,
				{ customerId: id, channel: "web", text: "back again" },
				"back again",
			);
			expect(stored).toBeNull();
			const rows = await rowsOf(id);
			expect({ messages: rows.messages, outbox: rows.outbox, timers: rows.timers }).toEqual({
				messages: [],
				outbox: [],
				timers: [],
			});
		}
	});
});
