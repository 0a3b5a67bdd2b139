/**
 * `topicdesk restore <file>`: replaces the embedded database in DATA_DIR with a backup. Refuses
 * while a service uses DATA_DIR, and refuses a file that does not hold a whole, bootable
 * database, checked before anything is touched. A database already in DATA_DIR is moved aside
 * (`pgdata.replaced-<time>`) while the backup is unpacked, and removed once the restored database
 * opens and holds what the backup held; if it does not, the previous one is put back. Removed, not
 * kept: it would keep on disk what was erased since the backup was taken, and the backup itself
 * is still there to restore from.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Config } from "../config/index.ts";
import { pgliteAssets } from "../db/pglite-assets.ts";
import { askService } from "../runtime/control-socket.ts";
import { claimDataDirChecked, DataDirBusy, holderOf } from "../runtime/data-dir.ts";
import { BadBackup, validateBackup } from "../runtime/pglite-backup.ts";
import { type Output, usePgTools } from "./output.ts";

export async function restore(config: Config, file: string | undefined, io: Output) {
	if (config.databaseUrl) {
		io.err(usePgTools("restore"));
		return 1;
	}
	if (!file) {
		io.err("restore: name the backup file, e.g. topicdesk restore topicdesk-backup.tar.gz");
		return 1;
	}
	const running = (await askService(config.dataDir, "/ping")) ?? undefined;
	const holder = holderOf(config.dataDir);
	if (running || holder !== undefined) {
		io.err(
			`restore: a topicdesk service${holder ? ` (pid ${holder})` : ""} is running on ${config.dataDir}; stop it first. Nothing was changed.`,
		);
		return 1;
	}
	let bytes: Uint8Array<ArrayBuffer>;
	try {
		bytes = new Uint8Array(readFileSync(file));
	} catch (error) {
		io.err(`restore: cannot read ${file}: ${(error as Error).message}`);
		return 1;
	}
	let expected: { migrations: number };
	try {
		expected = await validateBackup(bytes);
	} catch (error) {
		if (!(error instanceof BadBackup)) throw error;
		io.err(`restore: ${file} cannot be restored: ${error.message}. Nothing was changed.`);
		return 1;
	}
	let release: () => void;
	try {
		release = await claimDataDirChecked(config.dataDir);
	} catch (error) {
		if (!(error instanceof DataDirBusy)) throw error;
		io.err(`restore: ${error.message} Nothing was changed.`);
		return 1;
	}
	const target = `${config.dataDir}/pgdata`;
	let aside: string | undefined;
	try {
		if (existsSync(target) && readdirSync(target).length > 0) {
			aside = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
			renameSync(target, aside);
		}
		let why = "it does not hold what the backup holds";
		const restored = await unpack(target, bytes).catch((error: unknown) => {
			why = String((error as Error)?.message ?? error).slice(0, 200);
			return undefined;
		});
		if (restored?.migrations !== expected.migrations) {
			rmSync(target, { recursive: true, force: true });
			if (aside) renameSync(aside, target);
			io.err(`restore: the restored database could not be checked (${why}). Nothing was changed.`);
			return 1;
		}
		if (aside) {
			rmSync(aside, { recursive: true, force: true });
			io.out("restore: the previous database was replaced and removed");
		}
	} finally {
		release();
	}
	io.out(`restore: ${config.dataDir} now holds the database from ${file}`);
	return 0;
}

/** Unpacks the backup into `target` and opens it there: what it holds, read back from disk. */
async function unpack(target: string, bytes: Uint8Array<ArrayBuffer>) {
	const assets = await pgliteAssets();
	const unpacked = await PGlite.create({
		dataDir: target,
		loadDataDir: new Blob([bytes]),
		...assets,
	});
	await unpacked.close();
	const reopened = await PGlite.create({ dataDir: target, ...assets });
	try {
		const rows = await reopened.query<{ n: number }>(
			"select count(*)::int as n from topicdesk_migrations",
		);
		return { migrations: rows.rows[0]?.n ?? -1 };
	} finally {
		await reopened.close();
	}
}
