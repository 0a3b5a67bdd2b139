/**
 * Telegram misbehaving: 429s, 500s and dropped connections on a random 20% of
 * calls, getUpdates included. Everything still arrives, once, in order. (A "drop" here never
 * reaches Telegram: a send that Telegram applied but whose answer was lost cannot be told apart
 * from one it never got, and the Bot API has no idempotency key, so that case is at-least-once.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { socketMarker } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { shownText } from "../support/telegram-flow.ts";
import { connectSocket, initSession, type SocketClient } from "../support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	service = await startTestService({
		db,
		double: tg,
		configFile: { telegram: { pollTimeout: "1s" }, rateLimits: { init: 10_000 } },
	});
});
afterAll(async () => {
	tg?.setFaultRate(null);
	await service?.stop();
	await tg?.close();
	await db?.drop();
});

const CUSTOMERS = 20;

describe("faults on a random 20% of calls", () => {
	test("every message lands in its topic exactly once and in order; every reply reaches the web once", async () => {
		tg.setFaultRate({
			rate: 0.2,
			seed: 7,
			errors: [
				{ error_code: 429, description: "Too Many Requests: retry after 1", retry_after: 1 },
				{ error_code: 500, description: "Internal Server Error" },
				{ error_code: 502, description: "Bad Gateway" },
				{ drop: true, afterMs: 50, applied: false },
			],
		});
		const customers: { socket: SocketClient; id: number }[] = [];
		for (let i = 0; i < CUSTOMERS; i++) {
			const { sessionId } = await initSession(service.url);
			const socket = connectSocket(service.url, `?session=${sessionId}`);
			await socket.next("connected");
			for (let n = 1; n <= 3; n++) socket.send({ type: "message", text: `f${i} m${n}` });
			customers.push({ socket, id: i });
		}
		const topicOf = new Map<number, number>();
		const deadline = Date.now() + 60_000;
		// Under 429 pauses the group budget is short, so queued texts may be merged (one per line).
		const landed = (i: number) =>
			tg.calls
				.filter(
					(c) => c.ok && c.method === "sendMessage" && shownText(c).startsWith(`[WEB] f${i} m`),
				)
				.flatMap((c) =>
					shownText(c)
						.split("\n")
						.map((line) => ({
							...c,
							params: { ...c.params, text: line } as Record<string, unknown>,
						})),
				);
		while (Date.now() < deadline && customers.some(({ id }) => landed(id).length < 3))
			await Bun.sleep(200);
		for (const { id } of customers) {
			const sends = landed(id);
			expect(sends.map((c) => c.params.text)).toEqual([
				`[WEB] f${id} m1`,
				`[WEB] f${id} m2`,
				`[WEB] f${id} m3`,
			]);
			const threads = new Set(sends.map((c) => Number(c.params.message_thread_id)));
			expect(threads.size).toBe(1);
			topicOf.set(id, [...threads][0] as number);
		}
		// Operators answer each customer; the poller meets the same faults.
		for (const { id } of customers) tg.operatorPosts(topicOf.get(id) as number, `answer ${id}`);
		for (const { socket, id } of customers) {
			await socket.next((f) => f.type === "message" && f.data.text === `answer ${id}`, 30_000);
		}
		// Every answer's update applied and confirmed (a redelivered one too), and each customer's
		// own later message reached their socket after anything published to it before.
		await tg.waitForUpdateConfirmed(undefined, { timeoutMs: 30_000 });
		await Promise.all(customers.map(({ socket }) => socketMarker(socket, 30_000)));
		for (const { socket, id } of customers) {
			const answers = socket.frames.filter(
				(f) => f.type === "message" && f.data.from === "support",
			);
			expect(answers.map((f) => f.data.text)).toEqual([`answer ${id}`]);
			socket.close();
		}
		const injected = tg.calls.filter((c) => c.injected).length;
		expect(injected).toBeGreaterThan(5);
	}, 120_000);
});
