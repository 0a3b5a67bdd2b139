/**
 * The service's storage: DATA_DIR claimed (embedded database), the database opened and migrated,
 * the control socket that `topicdesk backup` asks for a copy, and the app secret. `close()` gives
 * it all back, the database last but for the pid file.
 */
import type { PGlite } from "@electric-sql/pglite";
import type { Config } from "../config/index.ts";
import { type Database, openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import type { Logger } from "../observability/logger.ts";
import { resolveAppSecret } from "../runtime/app-secret.ts";
import { serveControl } from "../runtime/control-socket.ts";
import { claimDataDirChecked, makePrivate } from "../runtime/data-dir.ts";
import { dumpPglite } from "../runtime/pglite-backup.ts";

export interface Storage {
	database: Database;
	/** APP_SECRET, or on the embedded database the one generated into DATA_DIR on first start. */
	appSecret: string;
	close(): Promise<void>;
}

/**
 * Opens the database the config names (PostgreSQL, or PGlite in DATA_DIR), migrated.
 * Throws DataDirBusy when another process holds DATA_DIR, AppSecretMissing when PostgreSQL is
 * used without APP_SECRET.
 */
export async function openStorage(
	config: Config,
	options: { pglite?: PGlite },
	log: Logger,
): Promise<Storage> {
	// The embedded database is one process's: claim DATA_DIR first.
	const ownsDataDir = !config.databaseUrl && !options.pglite;
	const releaseDataDir = ownsDataDir ? await claimDataDirChecked(config.dataDir) : () => {};
	const database = await openDatabase({
		databaseUrl: config.databaseUrl,
		dataDir: config.dataDir,
		pglite: options.pglite,
	}).catch((error: unknown) => {
		releaseDataDir();
		throw error;
	});
	const embedded = ownsDataDir ? database.pglite : undefined;
	if (embedded) makePrivate(config.dataDir);
	// `topicdesk backup` asks this process for the copy: only it can take one consistently.
	const control = embedded
		? serveControl(config.dataDir, { backup: () => dumpPglite(embedded) })
		: undefined;
	const close = async () => {
		control?.stop();
		await database.close();
		releaseDataDir();
	};
	try {
		const applied = await migrate(database);
		if (applied.length)
			log.info("database migrated", { event: "service.migrated", applied, kind: database.kind });
		const appSecret = await resolveAppSecret({
			database,
			configured: config.appSecret,
			dataDir: config.dataDir,
			log,
		});
		log.redact?.(appSecret);
		return { database, appSecret, close };
	} catch (error) {
		await close().catch(() => undefined);
		throw error;
	}
}
