/**
 * The fixed statements of src/db/raw-sql.ts (the accept, the outbox's claims and finishes): run
 * on their own they are prepared once per connection on PostgreSQL and then run by name, which
 * the server's `pg_prepared_statements` shows; in a transaction they run as its other statements;
 * both drivers answer the same rows. (PGlite runs in-process: no round trips to save.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { rawQuery, rawStatement } from "../../src/db/raw-sql.ts";
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

const READ = "select display_name as name from customers where id = $1::text::uuid";

describe("fixed statements", () => {
	if (onPostgres) {
		test("run on their own, they are prepared once per connection and served by name", async () => {
			const id = await insertCustomer(database(), "Named");
			const read = () => rawStatement(single as Database, READ, [id]);
			expect(await read()).toEqual([{ name: "Named" }]);
			expect(await read()).toEqual([{ name: "Named" }]);
			const own = (await preparedTexts(single as Database)).filter((text) => text === READ);
			// Once, though run twice: the second call used the name.
			expect(own).toHaveLength(1);
		});
	}

	test("in a transaction they write and read as its other statements", async () => {
		const id = await insertCustomer(database(), "Before");
		const seen = await database().db.transaction(async (tx) => {
			await rawQuery(tx, "update customers set display_name = $2 where id = $1::text::uuid", [
				id,
				"In a transaction",
			]);
			return rawQuery(tx, READ, [id]);
		});
		expect(seen).toEqual([{ name: "In a transaction" }]);
	});

	test("results are the same whichever the driver", async () => {
		const id = await insertCustomer(database(), "Either");
		expect(await rawStatement(database(), READ, [id])).toEqual([{ name: "Either" }]);
	});
});
