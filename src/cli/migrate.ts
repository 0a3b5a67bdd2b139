/**
 * `topicdesk migrate`: applies the embedded migrations and exits (the service also does this at
 * every start; this is for deployments that migrate as a separate step).
 */
import type { Config } from "../config/index.ts";
import { openDatabase } from "../db/client.ts";
import { migrate as applyMigrations } from "../db/migrate.ts";
import { claimDataDirChecked, DataDirBusy } from "../runtime/data-dir.ts";
import type { Output } from "./output.ts";

export async function migrate(config: Config, io: Output) {
	let release = () => {};
	if (!config.databaseUrl) {
		try {
			release = await claimDataDirChecked(config.dataDir);
		} catch (error) {
			if (!(error instanceof DataDirBusy)) throw error;
			io.err(`migrate: ${error.message} (a running service has already migrated at its start)`);
			return 1;
		}
	}
	try {
		const database = await openDatabase({
			databaseUrl: config.databaseUrl,
			dataDir: config.dataDir,
		});
		try {
			const applied = await applyMigrations(database);
			io.out(
				applied.length ? `migrate: applied ${applied.join(", ")}` : "migrate: already up to date",
			);
		} finally {
			await database.close();
		}
	} finally {
		release();
	}
	return 0;
}
