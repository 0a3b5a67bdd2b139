/**
 * GET /metrics: bearer METRICS_TOKEN (401 without or wrong, 404 when unset), and
 * counters that move with real traffic through both doors and the Bot API double.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser, nextCall, topicIdOf } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

const TOKEN = "metrics-token-0123456789";
let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	service = await startTestService({ db, double: tg, env: { METRICS_TOKEN: TOKEN } });
}, 20_000);
afterAll(async () => {
	await service.stop();
	await tg.close();
	await db.drop();
}, 20_000);

/** Samples by name and canonical (sorted) labels: `name{a="1",b="2"}` → value. */
async function scrape(): Promise<Map<string, number>> {
	const response = await fetch(`${service.url}/metrics`, {
		headers: { authorization: `Bearer ${TOKEN}` },
	});
	expect(response.status).toBe(200);
	expect(response.headers.get("content-type")).toContain("text/plain");
	const samples = new Map<string, number>();
	for (const line of (await response.text()).split("\n")) {
		const match = /^([a-z0-9_:]+)(?:\{(.*)\})? (\S+)$/i.exec(line);
		if (!match) continue;
		const labels = (match[2] ?? "")
			.split(/,(?=[a-z_]+=")/i)
			.filter(Boolean)
			.sort()
			.join(",");
		samples.set(`${match[1]}{${labels}}`, Number(match[3]));
	}
	return samples;
}

const value = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;

describe("access", () => {
	test("without a token or with a wrong one: 401, and nothing is revealed", async () => {
		const none = await fetch(`${service.url}/metrics`);
		expect(none.status).toBe(401);
		expect(await none.text()).not.toContain("topicdesk_");
		const wrong = await fetch(`${service.url}/metrics`, {
			headers: { authorization: `Bearer ${TOKEN}x` },
		});
		expect(wrong.status).toBe(401);
		const basic = await fetch(`${service.url}/metrics`, {
			headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
		});
		expect(basic.status).toBe(401);
	});

	test("without METRICS_TOKEN the route does not exist (404)", async () => {
		const other = await startTestService({ db });
		try {
			const response = await fetch(`${other.url}/metrics`, {
				headers: { authorization: `Bearer ${TOKEN}` },
			});
			expect(response.status).toBe(404);
		} finally {
			await other.stop();
		}
	});
});

describe("counters move with traffic", () => {
	test("web and Telegram messages, operator replies, Bot API calls, 429s, sockets, timers", async () => {
		const before = await scrape();
		for (const name of [
			"topicdesk_process_resident_memory_bytes{}",
			"topicdesk_websockets_open{}",
			"topicdesk_telegram_group_budget_left{}",
			'topicdesk_db_connections{state="pool_size"}',
			"topicdesk_metrics_scrape_database_ok{}",
			"topicdesk_telegram_updates_set_aside{}",
		])
			expect(before.has(name)).toBe(true);
		expect(value(before, "topicdesk_process_resident_memory_bytes{}")).toBeGreaterThan(0);
		expect(value(before, "topicdesk_metrics_scrape_database_ok{}")).toBe(1);

		// A web customer with an open socket writes twice.
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		for (const text of ["web one", "web two"]) {
			const sent = await api<Envelope>(service.url, "POST", "/api/chat/message", {
				session: sessionId,
				body: { text },
			});
			expect(sent.status).toBe(201);
		}
		// The unanswered web customer's SLA clock is armed: a pending timer.
		const waiting = await eventually(async () => {
			const samples = await scrape();
			return value(samples, 'topicdesk_timers{kind="sla",state="pending"}') >= 1
				? samples
				: undefined;
		});
		expect(value(waiting, 'topicdesk_timers{kind="sla",state="overdue"}')).toBe(0);
		// A media link with a bad signature: labelled by the route pattern, not the path.
		const media = await fetch(`${service.url}/api/media/${crypto.randomUUID()}?exp=1&sig=x`);
		expect(media.status).toBe(403);

		// A Telegram customer writes; the first DM reply gets a 429 before it goes through.
		const user = newUser("Metric");
		tg.customerSends(user, "telegram one");
		const topicId = await topicIdOf(service, user.id);
		const [webCustomer] = await service.database.query<{ topic_id: number | null }>(
			(await import("drizzle-orm")).sql`select c.topic_id from customers c
				join web_sessions s on s.customer_id = c.id where s.id = ${sessionId}`,
		);
		const webTopic =
			webCustomer?.topic_id ??
			(await eventually(async () => {
				const [row] = await service.database.query<{ topic_id: number | null }>(
					(await import("drizzle-orm")).sql`select c.topic_id from customers c
						join web_sessions s on s.customer_id = c.id where s.id = ${sessionId}`,
				);
				return row?.topic_id ?? undefined;
			}));
		const since = tg.calls.length;
		tg.failNext("copyMessage", 1, { error_code: 429, retry_after: 1 });
		tg.operatorPosts(topicId, "operator to telegram");
		tg.operatorPosts(Number(webTopic), "operator to web");
		await socket.next((frame) => frame.type === "message" && frame.data.text === "operator to web");
		await nextCall(
			tg,
			since,
			(c) => c.ok && c.method === "copyMessage" && Number(c.params.chat_id) === user.id,
			10_000,
		);

		const after = await eventually(async () => {
			const samples = await scrape();
			return value(samples, 'topicdesk_operator_replies_delivered_total{channel="telegram"}') >=
				value(before, 'topicdesk_operator_replies_delivered_total{channel="telegram"}') + 1
				? samples
				: undefined;
		});
		const moved = (key: string) => value(after, key) - value(before, key);
		expect(moved('topicdesk_messages_accepted_total{channel="web"}')).toBe(2);
		expect(moved('topicdesk_messages_accepted_total{channel="telegram"}')).toBe(1);
		expect(moved('topicdesk_operator_replies_delivered_total{channel="web"}')).toBe(1);
		expect(moved('topicdesk_operator_replies_delivered_total{channel="telegram"}')).toBe(1);
		expect(
			moved('topicdesk_http_requests_total{method="POST",route="/api/chat/message",status="201"}'),
		).toBe(2);
		expect(
			moved(
				'topicdesk_http_request_duration_seconds_count{method="POST",route="/api/chat/message",status="201"}',
			),
		).toBe(2);
		expect(
			moved('topicdesk_http_requests_total{method="GET",route="/api/media/:id",status="403"}'),
		).toBe(1);
		expect([...after.keys()].some((key) => key.includes(sessionId))).toBe(false);
		expect(
			moved('topicdesk_telegram_calls_total{method="createForumTopic",result="ok"}'),
		).toBeGreaterThanOrEqual(2);
		expect(moved('topicdesk_telegram_calls_total{method="copyMessage",result="429"}')).toBe(1);
		expect(moved("topicdesk_telegram_429_total{}")).toBe(1);
		expect(moved("topicdesk_telegram_paused_seconds_total{}")).toBe(1);
		expect(
			value(after, 'topicdesk_telegram_calls_total{method="getUpdates",result="ok"}'),
		).toBeGreaterThan(0);
		// Three updates from the double: the customer's message and the two operator posts.
		expect(moved("topicdesk_telegram_updates_applied_total{}")).toBe(3);
		expect(moved("topicdesk_telegram_update_lag_seconds_count{}")).toBe(3);
		expect(value(after, "topicdesk_telegram_update_failures_total{}")).toBe(0);
		expect(value(after, "topicdesk_websockets_open{}")).toBe(1);
		socket.close();
		await socket.closed;
		await eventually(async () => value(await scrape(), "topicdesk_websockets_open{}") === 0);
	}, 30_000);

	test("an item Telegram refuses for good shows as dead, by kind", async () => {
		tg.failNext("createForumTopic", 1, {
			error_code: 400,
			description: "Bad Request: not enough rights to create a topic",
		});
		const { sessionId } = await initSession(service.url);
		await api(service.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "nobody will see this" },
		});
		const samples = await eventually(async () => {
			const now = await scrape();
			return value(now, 'topicdesk_outbox_dead{kind="topic_message"}') >= 1 ? now : undefined;
		});
		expect(value(samples, "topicdesk_metrics_scrape_database_ok{}")).toBe(1);
	}, 30_000);
});
