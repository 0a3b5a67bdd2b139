/**
 * Messages are numbered within their conversation (`messages.customer_seq`, the web's `seq`) by the
 * database itself, on PGlite and PostgreSQL: a database from before numbering gets its history
 * numbered in order when it migrates, and writers of one customer that do not hold its row get
 * their numbers one after the other without deadlocking one that does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { migrations as embedded } from "../../drizzle/migrations.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createPostgresDatabase, dropPostgresDatabase, onPostgres } from "../support/db.ts";
import { tempDir } from "../support/process.ts";

let database: Database;
let url: string | undefined;

beforeAll(async () => {
	url = onPostgres ? await createPostgresDatabase() : undefined;
	database = await openDatabase({ databaseUrl: url, dataDir: tempDir("topicdesk-numbers-") });
});
afterAll(async () => {
	await database?.close();
	if (url) await dropPostgresDatabase(url);
});

/** The migration that introduced the numbers: the database "from before" stops short of it. */
const before = embedded.findIndex((m) => m.tag.endsWith("_numbers_per_conversation"));

async function numbers(customerId: string) {
	const rows = await database.query<{ text: string; n: number | string }>(
		sql`select text, customer_seq as n from messages where customer_id = ${customerId}
			order by customer_seq`,
	);
	return rows.map((r) => [r.text, Number(r.n)]);
}

async function customer(name: string): Promise<string> {
	const [row] = await database.query<{ id: string }>(
		sql`insert into customers (display_name) values (${name}) returning id`,
	);
	return row?.id as string;
}

const write = (customerId: string, text: string) =>
	database.query(
		sql`insert into messages (customer_id, author, channel, text)
			values (${customerId}, 'user', 'web', ${text})`,
	);

describe("message numbers in the database", () => {
	test("a database from before numbering gets each history numbered 1..n in order, and goes on from there", async () => {
		expect(before).toBeGreaterThan(0);
		await migrate(database, embedded.slice(0, before));
		// The stored functions of today came with that migrate; the schema they number is not there yet.
		await database.query(sql`drop trigger if exists messages_number on messages`);
		const ann = await customer("Ann");
		const bob = await customer("Bob");
		for (const [who, text] of [
			[ann, "a1"],
			[bob, "b1"],
			[ann, "a2"],
			[bob, "b2"],
			[ann, "a3"],
		] as const)
			await write(who, text);

		expect(await migrate(database)).toEqual(embedded.slice(before).map((m) => m.tag));
		expect(await numbers(ann)).toEqual([
			["a1", 1],
			["a2", 2],
			["a3", 3],
		]);
		expect(await numbers(bob)).toEqual([
			["b1", 1],
			["b2", 2],
		]);
		await write(bob, "b3");
		await write(await customer("Cy"), "c1");
		expect((await numbers(bob)).at(-1)).toEqual(["b3", 3]);
		const [cy] = await database.query<{ n: number | string }>(
			sql`select customer_seq as n from messages where text = 'c1'`,
		);
		expect(Number(cy?.n)).toBe(1);
	}, 60_000);

	test("a writer that does not hold the customer's row waits for one that does, and both are numbered in commit order", async () => {
		const dee = await customer("Dee");
		await write(dee, "first");
		let locked = () => {};
		const holding = new Promise<void>((resolve) => {
			locked = resolve;
		});
		// An operator's reply: the customer's row locked first, then the message.
		const operator = database.db.transaction(async (tx) => {
			await tx.execute(sql`select id from customers where id = ${dee} for update`);
			locked();
			// Ordering, not timing: let the other writer reach the customer's row meanwhile.
			await Bun.sleep(200);
			await tx.execute(
				sql`insert into messages (customer_id, author, channel, text)
					values (${dee}, 'support', 'telegram', 'operator')`,
			);
		});
		await holding;
		// A system message (a waiting reminder) takes no lock of its own before it writes.
		const system = database.query(
			sql`insert into messages (customer_id, author, channel, text)
				values (${dee}, 'system', 'web', 'reminder')`,
		);
		await Promise.all([operator, system]);
		expect(await numbers(dee)).toEqual([
			["first", 1],
			["operator", 2],
			["reminder", 3],
		]);
	}, 30_000);

	test("a message for a customer that no longer exists fails as a foreign key violation", async () => {
		const gone = crypto.randomUUID();
		const error = await write(gone, "lost").then(
			() => null,
			(e: unknown) => e,
		);
		const codes: unknown[] = [];
		for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never)
			codes.push(e.code);
		expect(codes).toContain("23503");
		expect(await numbers(gone)).toEqual([]);
	});
});
