/**
 * `topicdesk backup <file>`: a consistent copy of the embedded database. While the service runs,
 * the copy is asked of it over its control socket (only the process that has the database open
 * can copy it consistently: PGlite is single-process); otherwise this command opens DATA_DIR
 * itself, holding the pid file so that a service starting meanwhile refuses to.
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Config } from "../config/index.ts";
import { pgliteAssets } from "../db/pglite-assets.ts";
import { askService } from "../runtime/control-socket.ts";
import { claimDataDirChecked, DataDirBusy, holderOf } from "../runtime/data-dir.ts";
import { dumpPglite } from "../runtime/pglite-backup.ts";
import type { Output } from "./output.ts";
import { usePgTools } from "./output.ts";

export async function backup(config: Config, file: string | undefined, io: Output) {
	if (config.databaseUrl) {
		io.err(usePgTools("backup"));
		return 1;
	}
	if (!file) {
		io.err("backup: name the file to write, e.g. topicdesk backup topicdesk-backup.tar.gz");
		return 1;
	}
	let bytes: Uint8Array<ArrayBuffer>;
	const answer = await askService(config.dataDir, "/backup", { method: "POST" });
	if (answer?.ok) {
		bytes = new Uint8Array(await answer.arrayBuffer());
	} else {
		const holder = holderOf(config.dataDir);
		if (holder !== undefined) {
			io.err(
				`backup: the service (pid ${holder}) holds ${config.dataDir} but its control socket did not answer; try again, or stop it and run backup then.`,
			);
			return 1;
		}
		let release: () => void;
		try {
			release = await claimDataDirChecked(config.dataDir);
		} catch (error) {
			if (error instanceof DataDirBusy) {
				io.err(`backup: ${error.message}`);
				return 1;
			}
			throw error;
		}
		try {
			const pglite = await PGlite.create({
				dataDir: `${config.dataDir}/pgdata`,
				...(await pgliteAssets()),
			});
			try {
				bytes = new Uint8Array(await (await dumpPglite(pglite)).arrayBuffer());
			} finally {
				await pglite.close();
			}
		} finally {
			release();
		}
	}
	// Written aside and renamed, so an interrupted backup never leaves a plausible-looking file.
	// Readable by its owner only: it holds every conversation. A leftover partial file is removed
	// first, since a mode applies only to a file the write creates.
	const partial = `${file}.partial`;
	rmSync(partial, { force: true });
	writeFileSync(partial, bytes, { mode: 0o600 });
	chmodSync(partial, 0o600);
	renameSync(partial, file);
	io.out(`backup: wrote ${file} (${bytes.length} bytes)`);
	return 0;
}
