/**
 * Clearing from the database's files what deleted rows leave behind, for an erasure that must
 * reach the disk. A DELETE only marks a row dead; its bytes stay in the table's pages (and in the
 * TOAST table for large values such as file bytes). Plain VACUUM frees that space but does not
 * zero it: the bytes of a dead row stay in the page's free space until something overwrites them.
 * `VACUUM (FULL)` writes the table and its TOAST table anew and drops the old files, so nothing
 * of a dead row survives in them; it is checked by the table's file number, which a rewrite
 * changes (a role that does not own the table is only warned and skips it).
 *
 * Column statistics quote sampled values (a histogram of message texts). Where the tables have
 * statistics (PostgreSQL's autovacuum gathers them; PGlite never does), they are dropped and
 * gathered anew from the rows left, and `pg_statistic` is rewritten too: dropping takes a
 * superuser (without one, only a table left empty keeps stale statistics, and that is reported),
 * rewriting a superuser or, from PostgreSQL 17, the `pg_maintain` role.
 *
 * The write-ahead log holds the rows too. On PGlite it is ours, inside `DATA_DIR/pgdata/pg_wal`:
 * with segment recycling off, each WAL switch and checkpoint drops the segments before it, and
 * the loop goes on until the current segment is a freshly zeroed one, so no recycled segment with
 * old contents is left. On PostgreSQL the WAL, its archive, replicas and backups belong to the
 * server's operator: a CHECKPOINT is asked for (it needs the `pg_checkpoint` role or superuser;
 * without it the rest still holds), and the rest is theirs to handle.
 */
import type { Database } from "./client.ts";

export interface ScrubOutcome {
	/** Every table was rewritten (and on PGlite, the WAL renewed). */
	complete: boolean;
	/** What did not work, in words for the log (no personal data). */
	problems: string[];
	/**
	 * What the database role may not do or see on PostgreSQL (a checkpoint; other roles' sessions,
	 * whose snapshots the scrub cannot wait for): for the log, and the operator's to grant.
	 */
	notes: string[];
}

/** How long a rewrite waits for a table lock on PostgreSQL before it tries again. */
const LOCK_TIMEOUT = "5s";
const LOCK_ATTEMPTS = 3;
/** More segments than a PGlite data directory keeps (max_wal_size 1 GB / 16 MB, and some). */
const MAX_WAL_SWITCHES = 80;

const codeOf = (error: unknown) => (error as { code?: unknown }).code;
const words = (error: unknown) => String((error as Error)?.message ?? error).slice(0, 200);

/**
 * Rewrites `tables` (names from topicdesk's own schema, never user input) and renews what the
 * service controls of the WAL. Never throws: what failed is in the outcome.
 *
 * @example
 * const outcome = await scrubTables(database, ["messages", "media"]);
 * if (!outcome.complete) log.warn("scrub incomplete", { problems: outcome.problems });
 */
export async function scrubTables(
	database: Database,
	tables: readonly string[],
): Promise<ScrubOutcome> {
	const problems: string[] = [];
	const notes: string[] = [];
	const run = runner(database);
	const fail = (problem: string | undefined) => problem && problems.push(problem);
	try {
		if (database.kind === "postgres") {
			const hidden = await run.one<{ n: number }>(
				`select count(*)::int as n from pg_stat_activity
				where datname = current_database() and query = '<insufficient privilege>'`,
			);
			// Their snapshots cannot be waited for: the role needs pg_read_all_stats to see them.
			if (hidden?.n) notes.push("sessions of other roles are hidden (pg_read_all_stats)");
			fail(await outwait(run));
		}
		for (const table of tables) fail(await rewrite(run, table));
		fail(await renewStatistics(run, tables));
		if (database.kind === "pglite") fail(await renewPgliteWal(run));
		else
			await run.exec("checkpoint").catch((error: unknown) => {
				// 42501: the role lacks pg_checkpoint. The rewritten files hold no dead rows anyway;
				// the checkpoint only hastens the server's own recycling of its WAL.
				if (codeOf(error) === "42501") notes.push("checkpoint not permitted (pg_checkpoint)");
				else problems.push(`checkpoint failed: ${words(error)}`);
			});
	} catch (error) {
		problems.push(words(error));
	} finally {
		run.release();
	}
	return { complete: problems.length === 0, problems, notes };
}

interface Runner {
	exec(statement: string): Promise<unknown>;
	one<T>(statement: string): Promise<T | undefined>;
	release(): void;
}

/**
 * Statements outside any transaction (VACUUM refuses one). On PostgreSQL, one reserved connection
 * whose lock wait is bounded, so a rewrite queued behind a long reader (a pg_dump) gives up
 * rather than hold every other statement on the table behind it.
 */
function runner(database: Database): Runner {
	const { pglite, pg } = database;
	if (pglite)
		return {
			exec: (statement) => pglite.exec(statement),
			one: async <T>(statement: string) => (await pglite.query<T>(statement)).rows[0],
			release() {},
		};
	if (!pg) throw new Error("the database has no driver");
	const reserved = pg.reserve();
	return {
		async exec(statement) {
			const connection = await reserved;
			await connection.unsafe(`set lock_timeout = '${LOCK_TIMEOUT}'`);
			return connection.unsafe(statement);
		},
		async one<T>(statement: string) {
			const rows = await (await reserved).unsafe(statement);
			return rows[0] as T | undefined;
		},
		release() {
			void reserved.then((connection) => connection.release()).catch(() => undefined);
		},
	};
}

async function fileNumber(run: Runner, table: string): Promise<string | undefined> {
	const row = await run.one<{ node: string }>(
		`select pg_relation_filenode('${table}'::regclass)::text as node`,
	);
	return row?.node;
}

/** How long the scrub waits for older snapshots on PostgreSQL before it reports them. */
const SNAPSHOT_WAIT_MS = 30_000;

/**
 * Waits until nothing on the server may still see the erased rows: a rewrite copies a dead row
 * that a running transaction (of this database), a prepared transaction or a replication slot
 * (a replica's feedback) could still see, and such a copy would keep its bytes. PGlite has one
 * session, ours, so it has none of these.
 */
async function outwait(run: Runner): Promise<string | undefined> {
	// The next transaction id: every transaction that could see the erased rows is older.
	const mark = await run.one<{ xid: string }>(
		"select (pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296)::text as xid",
	);
	const older = (xid: string) => `(${xid} is not null and age(${xid}) > age('${mark?.xid}'::xid))`;
	const deadline = Date.now() + SNAPSHOT_WAIT_MS;
	for (;;) {
		const seen = await run.one<{ n: number }>(
			`select (select count(*) from pg_stat_activity where datname = current_database()
					and pid <> pg_backend_pid() and (${older("backend_xmin")} or ${older("backend_xid")}))
				+ (select count(*) from pg_prepared_xacts where database = current_database()
					and ${older("transaction")})
				+ (select count(*) from pg_replication_slots where ${older("xmin")} or ${older("catalog_xmin")})
				as n`,
		);
		if (!Number(seen?.n)) return undefined;
		if (Date.now() > deadline)
			return "a transaction, a prepared transaction or a replication slot still sees the erased rows";
		await Bun.sleep(200);
	}
}

/** Rewrites one table; returns what went wrong, if anything. */
async function rewrite(run: Runner, table: string): Promise<string | undefined> {
	if (!/^[a-z_]+$/.test(table)) return `not a table name: ${table}`;
	for (let attempt = 1; ; attempt++) {
		try {
			const before = await fileNumber(run, table);
			await run.exec(`vacuum (full) ${table}`);
			if ((await fileNumber(run, table)) === before)
				return `${table} was not rewritten (the database role must own it)`;
			return undefined;
		} catch (error) {
			// 55P03: lock_not_available, a long transaction held the table.
			if (codeOf(error) === "55P03" && attempt < LOCK_ATTEMPTS) {
				await Bun.sleep(1000 * attempt);
				continue;
			}
			return `${table} could not be rewritten: ${words(error)}`;
		}
	}
}

/**
 * Statistics of these tables dropped and gathered anew from the rows left, and the old ones' dead
 * rows rewritten away. Dropped first because ANALYZE keeps a now empty table's old statistics.
 */
async function renewStatistics(run: Runner, tables: readonly string[]) {
	const names = tables.map((table) => `'${table}'`).join(", ");
	const gathered = await run.one<{ n: number }>(
		`select count(*)::int as n from pg_stats where schemaname = 'public' and tablename in (${names})`,
	);
	if (!gathered?.n) return undefined;
	try {
		const relations = tables.map((table) => `'${table}'::regclass`).join(", ");
		await run
			.exec(`delete from pg_statistic where starelid in (${relations})`)
			.catch((error: unknown) => {
				// 42501: only a superuser may; ANALYZE below still replaces what a non-empty table had.
				if (codeOf(error) !== "42501") throw error;
			});
		await run.exec(`analyze ${tables.join(", ")}`);
		for (const table of tables) {
			const stale = await run.one<{ stale: boolean }>(
				`select exists (select 1 from pg_stats where schemaname = 'public' and tablename = '${table}')
				and not exists (select 1 from ${table}) as stale`,
			);
			if (stale?.stale) return `the statistics of ${table} could not be dropped (superuser only)`;
		}
	} catch (error) {
		return `statistics could not be gathered anew: ${words(error)}`;
	}
	const problem = await rewrite(run, "pg_statistic");
	return problem && `${problem}; a superuser or the pg_maintain role may`;
}

const SEGMENT = "^[0-9A-F]{24}$";

/**
 * Drops every WAL segment but a fresh one: with recycling off (a PGlite session's setting holds
 * for the whole embedded server), a switch starts the next segment and a checkpoint removes those
 * before it. Segments recycled earlier wait ahead with old contents: the loop switches through
 * them, and stops after a switch made while no other segment existed, into a zeroed one.
 */
async function renewPgliteWal(run: Runner): Promise<string | undefined> {
	try {
		await run.exec("set wal_recycle = off");
		for (let switches = 0; switches < MAX_WAL_SWITCHES; switches++) {
			const others = await run.one<{ n: number }>(
				`select count(*)::int as n from pg_ls_waldir()
				where name ~ '${SEGMENT}' and name <> pg_walfile_name(pg_current_wal_insert_lsn())`,
			);
			await run.exec("select pg_switch_wal()");
			await run.exec("checkpoint");
			if (others?.n === 0) return undefined;
		}
		return "the write-ahead log still holds old segments";
	} catch (error) {
		return `the write-ahead log could not be renewed: ${words(error)}`;
	}
}
