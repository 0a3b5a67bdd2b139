/**
 * The bot chosen on the setup page, kept in the `settings` table: the token sealed with
 * APP_SECRET, the group id in the clear. BOT_TOKEN/SUPPORT_GROUP_ID in the environment win.
 */
import { inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { settings } from "../db/schema.ts";
import { openSecret, sealSecret } from "./secret-box.ts";

const TOKEN_KEY = "setup.bot_token";
const GROUP_KEY = "setup.support_group_id";

export interface StoredBot {
	token: string;
	groupId: number;
}

export type StoredBotState =
	| { kind: "none" }
	| { kind: "stored"; bot: StoredBot }
	/** A token is stored but does not open with this APP_SECRET. */
	| { kind: "unreadable" };

export async function readStoredBot(
	database: Database,
	appSecret: string,
): Promise<StoredBotState> {
	const rows = await database.db
		.select()
		.from(settings)
		.where(inArray(settings.key, [TOKEN_KEY, GROUP_KEY]));
	const value = (key: string) => rows.find((row) => row.key === key)?.value;
	const box = value(TOKEN_KEY);
	const group = Number(value(GROUP_KEY));
	if (!box || !Number.isSafeInteger(group)) return { kind: "none" };
	const token = await openSecret(appSecret, box);
	return token ? { kind: "stored", bot: { token, groupId: group } } : { kind: "unreadable" };
}

export async function saveStoredBot(database: Database, appSecret: string, bot: StoredBot) {
	const sealed = await sealSecret(appSecret, bot.token);
	for (const [key, value] of [
		[TOKEN_KEY, sealed],
		[GROUP_KEY, String(bot.groupId)],
	] as const) {
		await database.db
			.insert(settings)
			.values({ key, value })
			.onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: sql`now()` } });
	}
}
