/**
 * The bot chosen on the setup page, kept in the `settings` table: the token sealed with
 * APP_SECRET, the group id in the clear. BOT_TOKEN/SUPPORT_GROUP_ID in the environment win.
 */
import { inArray, sql } from "drizzle-orm";
import type { Database, Db, Tx } from "../db/client.ts";
import { settings } from "../db/schema.ts";
import { openSecret, sealSecret } from "./secret-box.ts";

const TOKEN_KEY = "setup.bot_token";
const GROUP_KEY = "setup.support_group_id";
/** Further support groups, comma-separated ids, after the first. */
const MORE_GROUPS_KEY = "setup.more_group_ids";

export interface StoredBot {
	token: string;
	/** The default support group. */
	groupId: number;
	/** Further support groups, in order. */
	moreGroupIds?: number[];
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
		.where(inArray(settings.key, [TOKEN_KEY, GROUP_KEY, MORE_GROUPS_KEY]));
	const value = (key: string) => rows.find((row) => row.key === key)?.value;
	const box = value(TOKEN_KEY);
	const group = Number(value(GROUP_KEY));
	if (!box || !Number.isSafeInteger(group)) return { kind: "none" };
	const token = await openSecret(appSecret, box);
	const more = (value(MORE_GROUPS_KEY) ?? "").split(",").filter(Boolean).map(Number);
	const moreGroupIds = more.filter((id) => Number.isSafeInteger(id));
	return token
		? {
				kind: "stored",
				bot: { token, groupId: group, ...(moreGroupIds.length ? { moreGroupIds } : {}) },
			}
		: { kind: "unreadable" };
}

/**
 * Stores the bot unless one is stored already (false then): the token's key is the row that
 * decides, so two saves never both store one.
 */
export async function insertStoredBot(
	executor: Db | Tx,
	appSecret: string,
	bot: StoredBot,
): Promise<boolean> {
	const sealed = await sealSecret(appSecret, bot.token);
	const inserted = await executor
		.insert(settings)
		.values({ key: TOKEN_KEY, value: sealed })
		.onConflictDoNothing({ target: settings.key })
		.returning({ key: settings.key });
	if (inserted.length === 0) return false;
	const group = String(bot.groupId);
	await executor
		.insert(settings)
		.values({ key: GROUP_KEY, value: group })
		.onConflictDoUpdate({ target: settings.key, set: { value: group, updatedAt: sql`now()` } });
	const more = (bot.moreGroupIds ?? []).join(",");
	if (more)
		await executor
			.insert(settings)
			.values({ key: MORE_GROUPS_KEY, value: more })
			.onConflictDoUpdate({ target: settings.key, set: { value: more, updatedAt: sql`now()` } });
	return true;
}
