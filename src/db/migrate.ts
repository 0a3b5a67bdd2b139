/**
 * Applies the embedded migrations (drizzle/migrations.ts), then the stored functions'
 * current text (functions/), in one transaction, under an advisory lock so that instances
 * starting together migrate once. Identical on PostgreSQL and PGlite.
 */
import { sql } from "drizzle-orm";
import { migrations as embedded } from "../../drizzle/migrations.ts";
import type { Database } from "./client.ts";
import { functionFiles } from "./functions/index.ts";

export interface Migration {
	tag: string;
	when: number;
	sql: string;
}

/** Arbitrary constant: the advisory lock key that serialises migrations across instances. */
const MIGRATION_LOCK = 7_300_001;

/**
 * Brings the schema up to date; returns the tags it applied (empty when already current).
 * @example await migrate(database) // ["0000_init"] on an empty database
 */
export async function migrate(
	database: Database,
	migrations: Migration[] = embedded,
): Promise<string[]> {
	return database.db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
		await tx.execute(sql`create table if not exists topicdesk_migrations (
			tag text primary key,
			applied_at timestamptz not null default now()
		)`);
		const done = new Set(
			(await database.query<{ tag: string }>(sql`select tag from topicdesk_migrations`, tx)).map(
				(row) => row.tag,
			),
		);
		const applied: string[] = [];
		for (const migration of migrations) {
			if (done.has(migration.tag)) continue;
			for (const statement of statements(migration.sql)) await tx.execute(sql.raw(statement));
			await tx.execute(sql`insert into topicdesk_migrations (tag) values (${migration.tag})`);
			applied.push(migration.tag);
		}
		// Functions are code, not history: their current text replaces whatever is stored, every
		// start (a few milliseconds), so the text in functions/ is always the one that runs.
		for (const file of functionFiles) {
			for (const statement of statements(file.sql)) await tx.execute(sql.raw(statement));
		}
		return applied;
	});
}

/** A file's statements, separated as drizzle-kit separates them. */
const statements = (text: string) =>
	text.split("--> statement-breakpoint").filter((statement) => statement.trim() !== "");

/** True when every embedded migration has been applied (readiness). */
export async function isMigrated(database: Database): Promise<boolean> {
	try {
		const rows = await database.query<{ n: number | string }>(
			sql`select count(*) as n from topicdesk_migrations`,
		);
		return Number(rows[0]?.n ?? 0) >= embedded.length;
	} catch {
		return false;
	}
}
