/**
 * On PostgreSQL, a query that Drizzle's documented `.prepare(name)` readies is parsed once per
 * connection and then runs in one round trip (postgres.js keeps the server's prepared statement),
 * also inside a transaction and a savepoint; the plain query builder runs unnamed statements.
 * What the server holds for the session shows it: `pg_prepared_statements`. (PGlite runs
 * in-process: no round trips to save.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { customers } from "../../src/db/schema.ts";
import { insertCustomer, onPostgres, useMigratedDatabase } from "../support/db.ts";

const database = useMigratedDatabase();
/** The same database through a pool of one connection: one server session to look into. */
let single: Database | undefined;

beforeAll(async () => {
	if (!onPostgres) return;
	const [row] = await database().query<{ name: string }>(sql`select current_database() as name`);
	const url = new URL(process.env.DATABASE_URL as string);
	url.pathname = `/${row?.name}`;
	single = await openDatabase({ databaseUrl: url.toString(), dataDir: "", maxConnections: 1 });
});

afterAll(async () => {
	await single?.close();
});

/** The statements this session's server process holds prepared, by their text. */
async function preparedTexts(session: Database) {
	const rows = await session.query<{ statement: string }>(
		sql`select statement from pg_prepared_statements`,
	);
	return rows.map((row) => row.statement);
}

describe("Drizzle's statements on PostgreSQL", () => {
	if (onPostgres) {
		test("a query is prepared once and served by name after that", async () => {
			const id = await insertCustomer(database(), "Named");
			const read = () =>
				(single as Database).db
					.select({ name: customers.displayName })
					.from(customers)
					.where(eq(customers.id, id))
					.prepare("read_display_name")
					.execute();
			expect(await read()).toEqual([{ name: "Named" }]);
			expect(await read()).toEqual([{ name: "Named" }]);
			const texts = await preparedTexts(single as Database);
			const own = texts.filter((text) => text.includes('select "display_name" from "customers"'));
			// Once, though run twice: the second call used the name.
			expect(own).toHaveLength(1);
		});

		test("inside a transaction and a savepoint too", async () => {
			const id = await insertCustomer(database(), "Before");
			await (single as Database).db.transaction(async (tx) => {
				await tx
					.update(customers)
					.set({ displayName: "In a transaction" })
					.where(eq(customers.id, id))
					.prepare("rename_customer")
					.execute();
				await tx.transaction(async (inner) => {
					await inner
						.update(customers)
						.set({ phone: "+100" })
						.where(eq(customers.id, id))
						.prepare("set_phone")
						.execute();
				});
			});
			const texts = await preparedTexts(single as Database);
			expect(texts.some((text) => text.startsWith('update "customers" set "display_name"'))).toBe(
				true,
			);
			expect(texts.some((text) => text.startsWith('update "customers" set "phone"'))).toBe(true);
			const [row] = await database()
				.db.select({ name: customers.displayName, phone: customers.phone })
				.from(customers)
				.where(eq(customers.id, id));
			expect(row).toEqual({ name: "In a transaction", phone: "+100" });
		});

		test("the plain query builder leaves nothing prepared on the server", async () => {
			const id = await insertCustomer(database(), "Unnamed");
			await (single as Database).db
				.select({ phone: customers.phone })
				.from(customers)
				.where(eq(customers.id, id));
			const texts = await preparedTexts(single as Database);
			expect(texts.some((text) => text.startsWith('select "phone" from "customers"'))).toBe(false);
		});
	}

	test("results are the same whichever the driver", async () => {
		const id = await insertCustomer(database(), "Either");
		const [row] = await database()
			.db.select({ name: customers.displayName })
			.from(customers)
			.where(eq(customers.id, id));
		expect(row).toEqual({ name: "Either" });
	});
});
