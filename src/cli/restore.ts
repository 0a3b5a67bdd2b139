/**
 * `topicdesk restore <file>`: replaces the embedded database in DATA_DIR with a backup. Refuses
 * while a service uses DATA_DIR, and refuses a file that does not hold a whole, bootable
 * database, checked before anything is touched. A database already in DATA_DIR is kept aside
 * (`pgdata.replaced-<time>`), never deleted.
 */
import { existsSync, readdirSync, readFileSync, renameSync } from "node:fs";
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
	try {
		await validateBackup(bytes);
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
	try {
		const target = `${config.dataDir}/pgdata`;
		if (existsSync(target) && readdirSync(target).length > 0) {
			const aside = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
			renameSync(target, aside);
			io.out(`restore: the previous database was moved to ${aside}`);
		}
		const pglite = await PGlite.create({
			dataDir: target,
			loadDataDir: new Blob([bytes]),
			...(await pgliteAssets()),
		});
		await pglite.close();
	} finally {
		release();
	}
	io.out(`restore: ${config.dataDir} now holds the database from ${file}`);
	return 0;
}
