/**
 * A desk with several support groups: the Bot API double with a second forum group (its own
 * fixture, `addForum`), and the service started with both in SUPPORT_GROUP_ID, the double's main
 * group first (the default group).
 */
import { afterAll, beforeAll } from "bun:test";
import { sql } from "drizzle-orm";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "./db.ts";
import { startTestService } from "./service.ts";
import { type ApiCall, startTelegramDouble, type TelegramDouble } from "./telegram-double.ts";
import { CHAT_WRITE_METHODS } from "./telegram-double-faults.ts";
import { eventually } from "./telegram-flow.ts";

/** The second support group's id. */
export const SECOND_GROUP = -1009876543210;

export interface GroupsFlow {
	db: TestDatabase;
	tg: TelegramDouble;
	service: RunningService;
	/** The support groups, the default first. */
	groups: [number, number];
	stop(): Promise<void>;
}

export async function startGroupsFlow(
	configFile?: Record<string, unknown>,
	env: Record<string, string> = {},
): Promise<GroupsFlow> {
	const db = await freshDatabase();
	const tg = startTelegramDouble();
	tg.addForum(SECOND_GROUP, "Second Support");
	const groups: [number, number] = [tg.groupId, SECOND_GROUP];
	const service = await startTestService({
		db,
		double: tg,
		configFile,
		env: { SUPPORT_GROUP_ID: groups.join(","), ...env },
	});
	return {
		db,
		tg,
		service,
		groups,
		async stop() {
			await service.stop();
			await tg.close();
			await db.drop();
		},
	};
}

/** Starts a groups flow before the tests of the scope and stops it after. */
export function useGroupsFlow(
	configFile?: Record<string, unknown>,
	env?: Record<string, string>,
): () => GroupsFlow {
	let flow: GroupsFlow | undefined;
	beforeAll(async () => {
		flow = await startGroupsFlow(configFile, env);
	}, 20_000);
	afterAll(async () => {
		await flow?.stop();
	}, 20_000);
	return () => {
		if (!flow) throw new Error("the groups flow is not started");
		return flow;
	};
}

/** The customer's group and topic as stored, by Telegram user id. */
export async function placeOf(service: RunningService, telegramUserId: number) {
	const [row] = await service.database.query<{ group_id: string | null; topic_id: number | null }>(
		sql`select group_id, topic_id from customers where telegram_user_id = ${telegramUserId}`,
	);
	return { groupId: row?.group_id == null ? null : Number(row.group_id), topicId: row?.topic_id };
}

/** The customer's group and topic, once their topic exists. */
export function placedOf(service: RunningService, telegramUserId: number) {
	return eventually(async () => {
		const found = await placeOf(service, telegramUserId);
		return found.topicId != null && found;
	});
}

/** Calls since `since` that wrote into this chat. */
export const writesInto = (tg: TelegramDouble, chatId: number, since = 0): ApiCall[] =>
	tg.calls
		.slice(since)
		.filter((c) => c.ok && CHAT_WRITE_METHODS.has(c.method) && Number(c.params.chat_id) === chatId);
