/**
 * The group's flood budget holds across instances: instances sharing a
 * PostgreSQL elect one group sender (an advisory lock), so two instances never send twice the
 * group's budget, and every call into the group waits its turn in the window (an item makes
 * several calls). The double enforces the group limit with 429s; the service's budget is set
 * well under it (calls and their arrival share one busy event loop), so one sender never meets a
 * 429, while two senders would send 12 where 10 are allowed.
 *
 * On embedded PGlite there is only ever one process: the same test runs one instance.
 */
import { afterAll, expect, test } from "bun:test";
import type { RunningService } from "../../src/service.ts";
import {
	createPostgresDatabase,
	dropPostgresDatabase,
	freshDatabase,
	onPostgres,
	type TestDatabase,
} from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, initSession } from "../support/web-client.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const WINDOW_MS = 1000;
const DOUBLE_MAX = 10;
const configFile = {
	rateLimits: { init: 10_000, message: 10_000 },
	outbox: { groupPerMinute: DOUBLE_MAX - 4, groupWindow: `${WINDOW_MS}ms` },
};

test("two instances never send more into the group than one budget", async () => {
	const tg = startTelegramDouble();
	cleanups.push(() => tg.close());
	let db: TestDatabase;
	if (onPostgres) {
		const url = await createPostgresDatabase();
		cleanups.push(() => dropPostgresDatabase(url));
		db = { url, engine: "postgres", drop: async () => {} };
	} else {
		db = await freshDatabase();
		cleanups.push(() => db.drop());
	}
	const instances: RunningService[] = [];
	for (let i = 0; i < (onPostgres ? 2 : 1); i++) {
		const instance = await startTestService({ db, double: tg, configFile });
		cleanups.push(() => instance.stop());
		instances.push(instance);
	}
	tg.setFloodLimit({ chatId: tg.groupId, max: DOUBLE_MAX, windowMs: WINDOW_MS });
	// Twelve new customers, spread over the instances: each opens a topic (topic, card, pin,
	// message): about fifty calls into the group.
	const texts: string[] = [];
	for (let i = 0; i < 12; i++) {
		const instance = instances[i % instances.length] as RunningService;
		const { sessionId } = await initSession(instance.url);
		const text = `rush ${i}`;
		await api(instance.url, "POST", "/api/chat/message", { session: sessionId, body: { text } });
		texts.push(text);
	}
	for (const text of texts)
		await tg.waitForCall((c) => c.ok && showsText(c, `[WEB] ${text}`), { timeoutMs: 30_000 });
	const group = tg.calls.filter((c) => Number(c.params.chat_id) === tg.groupId);
	expect(group.filter((c) => c.errorCode === 429).map((c) => `${c.method} ${c.at}`)).toEqual([]);
}, 60_000);
