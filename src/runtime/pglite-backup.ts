/**
 * Backups of the embedded database: PGlite's own data-directory dump (a gzipped tar of the
 * PostgreSQL data directory), taken at a transaction boundary, and its validation before a
 * restore touches anything.
 */
import { PGlite } from "@electric-sql/pglite";
import { pgliteAssets } from "../db/pglite-assets.ts";

/**
 * A consistent copy of a running PGlite. `dumpDataDir` alone waits only for the statement in
 * progress; taking the copy inside a transaction of our own means no other transaction is half
 * done, because PGlite runs one transaction at a time (Drizzle runs its transactions through
 * `PGlite.transaction` too). Ours writes nothing, so the copy holds no trace of it. The
 * checkpoint first makes the copy start without WAL replay.
 */
export async function dumpPglite(pglite: PGlite): Promise<Blob> {
	await pglite.exec("checkpoint");
	return pglite.transaction(() => pglite.dumpDataDir("gzip"));
}

/** Why a backup file cannot be restored, in words for the person running `restore`. */
export class BadBackup extends Error {}

const BLOCK = 512;

/** Names of the files in a tar archive; throws BadBackup when the archive is cut short. */
function tarNames(tar: Uint8Array): string[] {
	const names: string[] = [];
	const decoder = new TextDecoder();
	let offset = 0;
	for (;;) {
		if (offset + BLOCK > tar.length) throw new BadBackup("the archive ends in the middle");
		const header = tar.subarray(offset, offset + BLOCK);
		if (header.every((byte) => byte === 0)) return names;
		const field = (start: number, length: number) =>
			decoder.decode(header.subarray(start, start + length)).replace(/\0.*$/s, "");
		const size = Number.parseInt(field(124, 12).trim() || "0", 8);
		if (!Number.isFinite(size)) throw new BadBackup("an archive header is damaged");
		const prefix = field(345, 155);
		names.push(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
		offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
		if (offset > tar.length) throw new BadBackup("the archive ends in the middle of a file");
	}
}

/**
 * Checks a backup end to end without writing anything: gzip intact (its CRC covers every byte),
 * a complete tar of a PostgreSQL data directory, and a database that boots in memory and has
 * topicdesk's tables. Returns the number of migrations the backup carries.
 */
export async function validateBackup(
	bytes: Uint8Array<ArrayBuffer>,
): Promise<{ migrations: number }> {
	let tar: Uint8Array;
	try {
		tar = Bun.gunzipSync(bytes);
	} catch {
		throw new BadBackup("it is not a complete gzip file (truncated or damaged)");
	}
	const names = tarNames(tar);
	if (!names.some((name) => /(^|\/)PG_VERSION$/.test(name)))
		throw new BadBackup("it is not a topicdesk backup (no database directory inside)");
	let trial: PGlite | undefined;
	try {
		trial = await PGlite.create({ loadDataDir: new Blob([bytes]), ...(await pgliteAssets()) });
		const rows = await trial.query<{ n: number }>(
			"select count(*)::int as n from topicdesk_migrations",
		);
		return { migrations: rows.rows[0]?.n ?? 0 };
	} catch (error) {
		throw new BadBackup(`the database inside does not open (${String(error).slice(0, 200)})`);
	} finally {
		await trial?.close().catch(() => undefined);
	}
}
