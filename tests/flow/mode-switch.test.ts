/**
 * Switching from webhook mode back to polling: Telegram refuses getUpdates while a webhook is
 * set, so the poller clears it first (keeping pending updates) and polling works at once.
 */
import { afterAll, expect, test } from "bun:test";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { connectSocket, initSession } from "../support/web-client.ts";

const tg = startTelegramDouble();
let db: TestDatabase | undefined;
let service: RunningService | undefined;
afterAll(async () => {
	await service?.stop();
	await tg.close();
	await db?.drop();
});

test("a webhook left over from webhook mode is removed and updates arrive by polling", async () => {
	const set = await fetch(`${tg.url}/bot${tg.token}/setWebhook`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ url: "http://127.0.0.1:9/unreachable" }),
	});
	expect(set.status).toBe(200);
	db = await freshDatabase();
	service = await startTestService({ db, double: tg });
	await tg.waitForCall((c) => c.method === "deleteWebhook" && c.ok);
	const { sessionId } = await initSession(service.url);
	const socket = connectSocket(service.url, `?session=${sessionId}`);
	await socket.next("connected");
	socket.send({ type: "message", text: "polling again?" });
	const sent = await tg.waitForCall((c) => showsText(c, "[WEB] polling again?") && c.ok);
	tg.operatorPosts(Number(sent.params.message_thread_id), "yes");
	expect(
		(await socket.next((f) => f.type === "message" && f.data.from === "support")).data.text,
	).toBe("yes");
	socket.close();
});
