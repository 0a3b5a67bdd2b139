/**
 * The key for signed media URLs: APP_SECRET when configured, otherwise generated once and kept in
 * `settings`, so restarts and every instance sharing the database sign alike.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { settings } from "../db/schema.ts";

const KEY = "app_secret";

export async function resolveAppSecret(database: Database, configured?: string): Promise<string> {
	if (configured) return configured;
	const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
	// Several instances starting at once: the first insert wins, everyone reads the winner.
	await database.db
		.insert(settings)
		.values({ key: KEY, value: generated })
		.onConflictDoNothing({ target: settings.key });
	const [row] = await database.db
		.select({ value: settings.value })
		.from(settings)
		.where(eq(settings.key, KEY));
	if (!row) throw new Error("app secret could not be stored");
	return row.value;
}
