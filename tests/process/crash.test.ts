/**
 * kill -9 under load: 200 widget sessions send messages; the service process is killed
 * without warning and started again. Every acknowledged message reaches its topic, in order per
 * customer, and every operator reply reaches the web exactly once (catch-up by `after=`).
 *
 * One thing cannot be exactly-once with the Bot API: a send that Telegram applied but whose
 * answer died with the process is sent again after the restart (there is no idempotency key).
 * Such duplicates can only be sends that were in flight at the kill; the test checks exactly that.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createPostgresDatabase, dropPostgresDatabase, onPostgres } from "../support/db.ts";
import { type ChildService, spawnService, tempDir } from "../support/process.ts";
import { TEST_APP_SECRET, writeConfigFile } from "../support/service.ts";
import { startTelegramDouble } from "../support/telegram-double.ts";
import { shownText } from "../support/telegram-flow.ts";
import {
	api,
	connectSocket,
	type Envelope,
	initSession,
	type SocketClient,
} from "../support/web-client.ts";

const root = join(import.meta.dir, "..", "..");
const SESSIONS = 200;
const PER_SESSION = 4;
const tg = startTelegramDouble();
const cleanups: (() => Promise<unknown>)[] = [() => tg.close()];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function environment(): Promise<Record<string, string>> {
	const env: Record<string, string> = {
		BOT_TOKEN: tg.token,
		SUPPORT_GROUP_ID: String(tg.groupId),
		TELEGRAM_API_URL: tg.url,
		DATA_DIR: tempDir("topicdesk-crash-"),
		LOG_LEVEL: "error",
		CONFIG_FILE: writeConfigFile({
			telegram: { pollTimeout: "1s" },
			rateLimits: { init: 100_000, message: 100_000, read: 100_000 },
			// 200 customers from one address: above the daily per-IP default of new conversations.
			quotas: { topicsPerIpPerDay: 100_000 },
			outbox: {
				groupPerMinute: 1_000_000,
				privatePerSecond: 1_000_000,
				globalPerSecond: 1_000_000,
			},
		}),
	};
	if (onPostgres) {
		const url = await createPostgresDatabase();
		cleanups.push(() => dropPostgresDatabase(url));
		env.DATABASE_URL = url;
		env.APP_SECRET = TEST_APP_SECRET;
	}
	return env;
}

interface Customer {
	session: string;
	socket?: SocketClient;
	acked: string[];
}

function startSending(service: ChildService, customer: Customer, texts: string[]) {
	const socket = connectSocket(service.url, `?session=${customer.session}`);
	customer.socket = socket;
	void (async () => {
		await socket.next("connected", 10_000).catch(() => undefined);
		for (const text of texts) {
			if (socket.ws.readyState !== WebSocket.OPEN) return;
			// The widget's retry key is the text itself here: unique per message.
			socket.send({ type: "message", text, clientMessageId: text });
			const echo = await socket
				.next((f) => f.type === "message" && f.data.text === text, 10_000)
				.catch(() => undefined);
			if (!echo) return;
			customer.acked.push(text);
		}
	})();
}

/**
 * Sends from 200 widgets, stops the service with `signal` a third of the way, starts it again and
 * checks the outcome. Returns how many topic messages were sent twice.
 */
async function underLoad(signal: "SIGKILL" | "SIGTERM"): Promise<number> {
	const env = await environment();
	const command = ["bun", "run", join(root, "src/index.ts")];
	let service = await spawnService(command, env, {
		readyPath: "/health/ready",
		timeoutMs: 60_000,
	});
	const customers: Customer[] = [];
	for (let i = 0; i < SESSIONS; i++)
		customers.push({ session: (await initSession(service.url)).sessionId, acked: [] });
	// Texts are unique per run: both runs share one Telegram double.
	const textsOf = (i: number) =>
		Array.from({ length: PER_SESSION }, (_, n) => `${signal} k${i} m${n + 1}`);
	customers.forEach((customer, i) => {
		startSending(service, customer, textsOf(i));
	});
	// Kill once a good part has been acknowledged, with the rest still in flight.
	while (customers.reduce((sum, c) => sum + c.acked.length, 0) < (SESSIONS * PER_SESSION) / 3)
		await Bun.sleep(5);
	const killedAt = Date.now();
	await service.stop(signal);
	for (const c of customers) c.socket?.close();

	service = await spawnService(command, env, { readyPath: "/health/ready", timeoutMs: 60_000 });
	cleanups.push(() => service.stop("SIGTERM"));
	// Widgets resend what was not acknowledged, with the same clientMessageId.
	customers.forEach((customer, i) => {
		startSending(service, customer, textsOf(i).slice(customer.acked.length));
	});
	const inTopic = (i: number) =>
		tg.calls.filter(
			(c) =>
				c.ok && c.method === "sendMessage" && shownText(c).startsWith(`[WEB] ${signal} k${i} m`),
		);
	const deadline = Date.now() + 90_000;
	while (
		Date.now() < deadline &&
		customers.some(
			(c, i) =>
				c.acked.length < PER_SESSION || new Set(inTopic(i).map(shownText)).size < PER_SESSION,
		)
	)
		await Bun.sleep(200);

	let duplicates = 0;
	customers.forEach((customer, i) => {
		expect(customer.acked).toEqual(textsOf(i));
		const sends = inTopic(i);
		const firstSeen = [...new Set(sends.map(shownText))];
		expect(firstSeen).toEqual(textsOf(i).map((t) => `[WEB] ${t}`));
		for (const text of firstSeen) {
			const copies = sends.filter((s) => shownText(s) === text);
			if (copies.length > 1) {
				duplicates += copies.length - 1;
				// Only a send answered just before the kill can be resent after it.
				expect((copies[0]?.at ?? 0) + (copies[0]?.durationMs ?? 0)).toBeGreaterThan(
					killedAt - 1000,
				);
			}
		}
	});
	console.log(
		`${signal}: ${SESSIONS * PER_SESSION} messages, ${duplicates} resent after the restart`,
	);

	// Operators answer every customer; each answer reaches the web once, socket or catch-up.
	const topics = customers.map((_, i) => Number(inTopic(i)[0]?.params.message_thread_id));
	topics.forEach((topic, i) => {
		tg.operatorPosts(topic, `reply ${i}`);
	});
	for (const [i, customer] of customers.entries()) {
		const page = async () =>
			(
				await api<Envelope<{ messages: { text: string; from: string }[] }>>(
					service.url,
					"GET",
					"/api/chat/history?limit=100",
					{
						session: customer.session,
					},
				)
			).body.data.messages.filter((m) => m.from === "support");
		let replies = await page();
		for (let tries = 0; tries < 100 && replies.length === 0; tries++) {
			await Bun.sleep(100);
			replies = await page();
		}
		expect(replies.map((m) => m.text)).toEqual([`reply ${i}`]);
	}
	for (const c of customers) c.socket?.close();
	await service.stop("SIGTERM");
	return duplicates;
}

describe("stopping under load", () => {
	test("kill -9: acknowledged messages arrive in order; replies reach the web once; duplicates only from sends in flight", async () => {
		await underLoad("SIGKILL");
	}, 240_000);

	test("SIGTERM: the graceful shutdown drains what is in flight, so nothing at all is sent twice", async () => {
		expect(await underLoad("SIGTERM")).toBe(0);
	}, 240_000);
});
