/**
 * Under Telegram's flood limits: the double enforces the group budget with 429 and
 * retry_after in a scaled-down window, the service's budget is configured to match, and a rush of
 * customers still gets everything delivered, in order, with queued texts merged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import {
	type ApiCall,
	startTelegramDouble,
	type TelegramDouble,
} from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, initSession } from "../support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;

const CUSTOMERS = 50;
/** The double's limit: 20 calls into the group per second (Telegram: about 20 a minute). */
const WINDOW_MS = 1000;
const DOUBLE_MAX = 20;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
});
afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
});

const intoGroup = (c: ApiCall) =>
	Number(c.params.chat_id) === tg.groupId && c.method !== "getChatAdministrators";

describe("flood control", () => {
	test("50 customers × 3 messages in 2 s under a 20-per-window group limit: all arrive, in order, merged", async () => {
		// Topics first, unthrottled, so the rush below is about messages.
		service = await startTestService({
			db,
			double: tg,
			configFile: { rateLimits: { init: 10_000 } },
		});
		const sessions: string[] = [];
		for (let i = 0; i < CUSTOMERS; i++) {
			const { sessionId } = await initSession(service.url);
			await api(service.url, "POST", "/api/chat/message", {
				session: sessionId,
				body: { text: `c${i} hello` },
			});
			sessions.push(sessionId);
		}
		for (let i = 0; i < CUSTOMERS; i++)
			await tg.waitForCall((c) => showsText(c, `[WEB] c${i} hello`) && c.ok, {
				timeoutMs: 10_000,
			});
		await service.stop();

		// The service keeps the same sliding window as the double (and Telegram): the full limit.
		service = await startTestService({
			db,
			double: tg,
			configFile: {
				outbox: {
					groupPerMinute: DOUBLE_MAX,
					groupWindow: `${WINDOW_MS}ms`,
					globalPerSecond: 30,
					privatePerSecond: 1,
				},
				rateLimits: { init: 10_000, message: 10_000 },
			},
		});
		tg.setFloodLimit({ chatId: tg.groupId, max: DOUBLE_MAX, windowMs: WINDOW_MS });
		// One 429 on top, as Telegram sometimes sends them early: the group must pause for it.
		tg.failNext("sendMessage", 1, {
			error_code: 429,
			description: "Too Many Requests: retry after 1",
			retry_after: 1,
		});
		const since = tg.calls.length;
		const started = Date.now();
		await Promise.all(
			sessions.map(async (session, i) => {
				for (let n = 1; n <= 3; n++) {
					const sent = await api(service.url, "POST", "/api/chat/message", {
						session,
						body: { text: `c${i} m${n}` },
					});
					expect(sent.status).toBe(201);
				}
			}),
		);
		const sendingMs = Date.now() - started;

		const delivered = (i: number) =>
			tg.calls
				.slice(since)
				.filter(
					(c) =>
						c.ok && c.method === "sendMessage" && String(c.params.text).includes(`[WEB] c${i} m`),
				)
				.flatMap((c) => String(c.params.text).split("\n"));
		const deadline = Date.now() + 40_000;
		while (Date.now() < deadline) {
			if (sessions.every((_, i) => delivered(i).length >= 3)) break;
			await Bun.sleep(200);
		}
		for (let i = 0; i < CUSTOMERS; i++)
			expect(delivered(i)).toEqual([`[WEB] c${i} m1`, `[WEB] c${i} m2`, `[WEB] c${i} m3`]);

		const calls = tg.calls.slice(since).filter(intoGroup);
		// Coalescing happened: fewer sends than messages.
		const sends = calls.filter(
			(c) => c.ok && c.method === "sendMessage" && String(c.params.text).startsWith("[WEB] c"),
		);
		expect(sends.length).toBeLessThan(CUSTOMERS * 3);
		expect(sends.some((c) => String(c.params.text).includes("\n[WEB] "))).toBe(true);
		// No call went into the group while it was paused by a 429. The service learns of the 429
		// a moment after the double answered it (same process, busy event loop): allow 300 ms.
		for (const flood of calls.filter((c) => c.errorCode === 429)) {
			const answered = flood.at + flood.durationMs;
			const until = answered + (flood.retryAfter ?? 1) * 1000;
			const during = calls.filter((c) => c.at > answered + 300 && c.at < until - 20);
			expect(during.map((c) => `${c.method} at +${c.at - flood.at} ms`)).toEqual([]);
		}
		const report = {
			messages: CUSTOMERS * 3,
			groupCalls: calls.length,
			floodAnswers: calls.filter((c) => c.errorCode === 429).length,
			sendingMs,
			lastLandedMs: Math.max(...sends.map((c) => c.at)) - started,
		};
		console.log(`flood test: ${JSON.stringify(report)}`);
	}, 90_000);
});
