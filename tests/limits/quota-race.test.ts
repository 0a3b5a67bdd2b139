/**
 * The upload quota's check against a file stored while the check waits for the database: the
 * file's bytes must be counted either as stored or as reserved, never as neither. Driven on the
 * real database; only the moment the check's query answers is held back, so the file can be
 * stored and its reservation released in between, as happens under parallel uploads.
 */
import { afterEach, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createWebQuotas } from "../../src/web/quota.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

let db: TestDatabase | undefined;
afterEach(async () => {
	await db?.drop();
	db = undefined;
});

test("a file stored and released while another upload's check waits still counts: that upload is refused", async () => {
	db = await freshDatabase();
	const database = await openDatabase({ databaseUrl: db.url, dataDir: "", pglite: db.pglite });
	try {
		await migrate(database);
		const [customer] = await database.query<{ id: string }>(
			sql`insert into customers (display_name, status) values ('Q', 'OPEN') returning id`,
		);
		const customerId = customer?.id as string;

		// The quota's queries run at once; `hold` keeps one's answer back until `let go`.
		let hold: { queried: () => void; answer: Promise<void> } | undefined;
		const held = {
			...database,
			query: async <T>(statement: Parameters<typeof database.query>[0]) => {
				const rows = await database.query<T>(statement);
				const gate = hold;
				hold = undefined;
				if (gate) {
					gate.queried();
					await gate.answer;
				}
				return rows;
			},
		};
		const quotas = createWebQuotas(held, { uploadBytesPerCustomer: 100 });

		const first = quotas.enterUpload(customerId);
		await first.reserve(60);

		let queried = () => {};
		let letGo = () => {};
		const seen = new Promise<void>((resolve) => {
			queried = resolve;
		});
		hold = { queried, answer: new Promise<void>((resolve) => (letGo = resolve)) };
		const second = quotas.enterUpload(customerId);
		const checking = second.reserve(60);
		await seen;

		// Meanwhile the first file is stored and its upload ends.
		await database.query(sql`insert into media (customer_id, kind, mime_type, size, bytes)
			values (${customerId}, 'document', 'application/pdf', 60, '\\x00'::bytea)`);
		first.release();
		letGo();

		await expect(checking).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
		second.release();
	} finally {
		await database.close();
	}
});
