/**
 * The stored SQL functions run the text of src/db/functions/*.sql: every function defined there
 * exists after `migrate()` with exactly that body, and a body changed behind the service's back
 * (an old version, a hand edit) is replaced at the next start.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { functionFiles } from "../../src/db/functions/index.ts";
import { migrate } from "../../src/db/migrate.ts";
import { useMigratedDatabase } from "../support/db.ts";

const database = useMigratedDatabase();

/** Each `CREATE OR REPLACE FUNCTION name(...) ... AS $$ body $$` of the files: name → body. */
function definedFunctions(): Map<string, string> {
	const found = new Map<string, string>();
	const definition = /CREATE OR REPLACE FUNCTION\s+(\w+)\s*\([\s\S]*?AS \$\$([\s\S]*?)\$\$/g;
	for (const file of functionFiles) {
		for (const match of file.sql.matchAll(definition)) found.set(match[1] ?? "", match[2] ?? "");
	}
	return found;
}

async function storedBody(name: string): Promise<string[]> {
	const rows = await database().query<{ prosrc: string }>(
		sql`select prosrc from pg_proc p join pg_namespace n on n.oid = p.pronamespace
			where n.nspname = 'public' and p.proname = ${name}`,
	);
	return rows.map((row) => row.prosrc);
}

describe("stored functions", () => {
	test("each function of src/db/functions runs the file's text, in one version only", async () => {
		const defined = definedFunctions();
		expect(defined.size).toBeGreaterThan(0);
		for (const [name, body] of defined) {
			expect({ name, bodies: await storedBody(name) }).toEqual({ name, bodies: [body] });
		}
	});

	test("a body changed behind the service's back is replaced at the next migrate", async () => {
		const [name, body] = [...definedFunctions()].find(([fn]) => fn === "outbox_renew") ?? [];
		expect(name).toBe("outbox_renew");
		await database().db.execute(
			sql.raw(`CREATE OR REPLACE FUNCTION outbox_renew(ids bigint[], until timestamptz)
				RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$`),
		);
		expect(await storedBody("outbox_renew")).toEqual([" BEGIN END "]);
		expect(await migrate(database())).toEqual([]);
		expect(await storedBody("outbox_renew")).toEqual([body ?? ""]);
	});
});
