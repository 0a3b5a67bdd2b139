/**
 * Rates and quotas against hostile volume: IPv6 clients counted by
 * /64, widget error reports by client IP whatever the Origin says, the limiter's memory bounded,
 * daily caps on new sessions and new conversations per client, stored upload bytes, uploads at
 * once and media downloads, and closing a ticket inside the message budget. Over a quota: 429
 * QUOTA_EXCEEDED (413 for a file bigger than the quota), and nothing half-stored.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { createRateLimiter, rateLimits } from "../../src/core/rate-limiter.ts";
import type { RunningService } from "../../src/service.ts";
import { webQuotas } from "../../src/web/quota.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

let db: TestDatabase | undefined;
let service: RunningService | undefined;

afterEach(async () => {
	await service?.stop();
	await db?.drop();
	service = undefined;
	db = undefined;
});

async function start(configFile: Record<string, unknown> = {}, env: Record<string, string> = {}) {
	db = await freshDatabase();
	service = await startTestService({ db, configFile, env: { TRUST_PROXY: "true", ...env } });
	return service;
}

const rows = async (running: RunningService, query: ReturnType<typeof sql>) =>
	Number((await running.database.query<{ n: number }>(query))[0]?.n);

/** POST /api/chat/init as a browser behind our one proxy, from `ip`. */
const initFrom = (running: RunningService, ip: string, session?: string) =>
	api<Envelope<{ sessionId: string }>>(running.url, "POST", "/api/chat/init", {
		headers: { "x-forwarded-for": ip, ...(session ? { "x-session-id": session } : {}) },
	});

const upload = (running: RunningService, session: string, bytes: number, name = "data.txt") => {
	const form = new FormData();
	form.append("file", new File([new Uint8Array(bytes).fill(97)], name, { type: "text/plain" }));
	return fetch(`${running.url}/api/chat/upload`, {
		method: "POST",
		headers: { "x-session-id": session },
		body: form,
	});
};

describe("rates by client", () => {
	test("100 inits from one IPv6 /64 share one budget: 10 pass, the rest are 429", async () => {
		const running = await start();
		const statuses: number[] = [];
		for (let i = 1; i <= 100; i++)
			statuses.push((await initFrom(running, `2001:db8:1:2:${i.toString(16)}::${i}`)).status);
		expect(statuses.filter((s) => s === 200)).toHaveLength(rateLimits.init);
		expect(statuses.filter((s) => s === 429)).toHaveLength(100 - rateLimits.init);
		expect(await rows(running, sql`select count(*)::int as n from web_sessions`)).toBe(
			rateLimits.init,
		);
		// Another /64 has its own budget.
		expect((await initFrom(running, "2001:db8:1:3::1")).status).toBe(200);
	}, 30_000);

	test("1,000 distinct Origins against /api/widget/errors share the client's budget", async () => {
		// Every Origin is an allowed one (a subdomain of an allowed site), so only the limit decides.
		const running = await start({}, { ALLOWED_ORIGINS: "example.com" });
		const statuses: number[] = [];
		for (let i = 0; i < 1000; i++) {
			const response = await api(running.url, "POST", "/api/widget/errors", {
				headers: { origin: `https://site${i}.example.com`, "x-forwarded-for": "203.0.113.50" },
				body: { errors: ["boom"] },
			});
			statuses.push(response.status);
		}
		expect(statuses.filter((s) => s === 200)).toHaveLength(rateLimits.widgetErrors);
		expect(statuses.filter((s) => s === 429)).toHaveLength(1000 - rateLimits.widgetErrors);
	}, 60_000);

	test("a flood of distinct keys cannot grow the limiter past its bound", () => {
		const limiter = createRateLimiter(rateLimits, Date.now, 1000);
		for (let i = 0; i < 20_000; i++) limiter.tryTake("message", `customer-${i}`);
		expect(limiter.size()).toBeLessThanOrEqual(1000);
		// The most recent keys are still counted: a spent bucket stays spent.
		for (let i = 0; i < rateLimits.link; i++) limiter.take("link", "recent");
		expect(limiter.tryTake("link", "recent")).toBeGreaterThan(0);
	});

	test("closing a ticket spends the message budget", async () => {
		const running = await start({ rateLimits: { message: 2 } });
		const { sessionId } = await initSession(running.url);
		for (const text of ["one", "two"])
			expect(
				(
					await api(running.url, "POST", "/api/chat/message", {
						session: sessionId,
						body: { text },
					})
				).status,
			).toBe(201);
		const closed = await api<Envelope>(running.url, "POST", "/api/chat/close", {
			session: sessionId,
			body: {},
		});
		expect(closed.status).toBe(429);
		expect(closed.body.error.code).toBe("RATE_LIMITED");
		expect(
			await rows(running, sql`select count(*)::int as n from customers where status = 'CLOSED'`),
		).toBe(0);
	});
});

describe("daily quotas per client", () => {
	test("new sessions per client IP per day; resuming one is free", async () => {
		const running = await start({
			rateLimits: { init: 10_000 },
			quotas: { sessionsPerIpPerDay: 5 },
		});
		const made: string[] = [];
		for (let i = 0; i < 5; i++) {
			const response = await initFrom(running, `2001:db8:9:9::${i + 1}`);
			expect(response.status).toBe(200);
			made.push(response.body.data.sessionId);
		}
		const over = await initFrom(running, "2001:db8:9:9::77");
		expect(over.status).toBe(429);
		expect((over.body as Envelope).error.code).toBe("QUOTA_EXCEEDED");
		expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(await rows(running, sql`select count(*)::int as n from web_sessions`)).toBe(5);
		expect((await initFrom(running, "2001:db8:9:9::77", made[0])).status).toBe(200);
		expect((await initFrom(running, "198.51.100.1")).status).toBe(200);
	});

	test("new conversations (topics) per client IP per day; nothing stored over it", async () => {
		const running = await start({
			rateLimits: { init: 10_000 },
			quotas: { topicsPerIpPerDay: 2 },
		});
		const sessions: string[] = [];
		for (let i = 0; i < 3; i++)
			sessions.push((await initFrom(running, "203.0.113.9")).body.data.sessionId);
		const say = (session: string, text: string) =>
			api<Envelope>(running.url, "POST", "/api/chat/message", { session, body: { text } });
		expect((await say(sessions[0] as string, "first")).status).toBe(201);
		expect((await say(sessions[1] as string, "second")).status).toBe(201);
		const third = await say(sessions[2] as string, "third");
		expect(third.status).toBe(429);
		expect(third.body.error.code).toBe("QUOTA_EXCEEDED");
		expect(
			await rows(running, sql`select count(*)::int as n from messages where author = 'user'`),
		).toBe(2);
		// Conversations already open go on.
		expect((await say(sessions[0] as string, "still here")).status).toBe(201);
		expect((await upload(running, sessions[2] as string, 10, "note.txt")).status).toBe(429);
	});

	test("first messages of many new visitors of one network at once: exactly the cap is stored", async () => {
		const running = await start({
			rateLimits: { init: 10_000 },
			quotas: { topicsPerIpPerDay: 3 },
		});
		const sessions: string[] = [];
		for (let i = 0; i < 8; i++)
			sessions.push((await initFrom(running, "203.0.113.10")).body.data.sessionId);
		const sockets = sessions.map((session) => connectSocket(running.url, `?session=${session}`));
		for (const socket of sockets) await socket.next("connected");
		// Sent in one turn, so the hot path takes them together: one accept statement spends the
		// network's quota for several new conversations.
		sockets.forEach((socket, i) => {
			socket.send({ type: "message", data: { text: `hello ${i}` } });
		});
		const answers = await Promise.all(
			sockets.map((socket) => socket.next((f) => f.type === "error" || f.type === "message")),
		);
		const refused = answers.filter((frame) => frame.type === "error");
		expect(answers.filter((frame) => frame.type === "message")).toHaveLength(3);
		expect(refused.map((frame) => frame.data.code)).toEqual(Array(5).fill("QUOTA_EXCEEDED"));
		expect(
			await rows(running, sql`select count(*)::int as n from messages where author = 'user'`),
		).toBe(3);
		expect(await rows(running, sql`select count(*)::int as n from outbox`)).toBe(3);
		expect(
			await rows(running, sql`select used as n from quota_usage where key like 'topic:%'`),
		).toBe(3);
		// A refused visitor is refused again; an accepted one goes on without spending more.
		const again = sockets[answers.indexOf(refused[0] as (typeof answers)[number])];
		again?.send({ type: "message", data: { text: "once more" } });
		expect((await again?.next("error"))?.data.code).toBe("QUOTA_EXCEEDED");
		const accepted = sockets[answers.findIndex((frame) => frame.type === "message")];
		accepted?.send({ type: "message", data: { text: "and again" } });
		await accepted?.next((f) => f.type === "message" && f.data.text === "and again");
		expect(
			await rows(running, sql`select count(*)::int as n from messages where author = 'user'`),
		).toBe(4);
		expect(
			await rows(running, sql`select used as n from quota_usage where key like 'topic:%'`),
		).toBe(3);
		for (const socket of sockets) socket.close();
	});

	test("media downloads per customer per day", async () => {
		const running = await start({ quotas: { mediaDownloadsPerCustomerPerDay: 3 } });
		const { sessionId } = await initSession(running.url);
		expect((await upload(running, sessionId, 100)).status).toBe(201);
		const history = await api<Envelope<{ messages: { fileUrl?: string }[] }>>(
			running.url,
			"GET",
			"/api/chat/history",
			{ session: sessionId },
		);
		const url = history.body.data.messages[0]?.fileUrl as string;
		const statuses: number[] = [];
		for (let i = 0; i < 5; i++) statuses.push((await fetch(url)).status);
		expect(statuses).toEqual([200, 200, 200, 429, 429]);
	});
});

describe("upload quotas", () => {
	test("50 parallel uploads against a small per-customer quota: never over it, nothing half-stored", async () => {
		const size = 200 * 1024;
		const running = await start({
			rateLimits: { upload: 10_000, message: 10_000 },
			// All from one address: its caps on uploads at once are lifted with the customer's.
			quotas: {
				uploadBytesPerCustomer: 5 * size,
				concurrentUploadsPerCustomer: 50,
				concurrentUploadsPerIp: 50,
				concurrentUploadsPerNetwork: 50,
			},
		});
		const { sessionId } = await initSession(running.url);
		const responses = await Promise.all(
			Array.from({ length: 50 }, () => upload(running, sessionId, size)),
		);
		const statuses = responses.map((r) => r.status);
		expect(statuses.filter((s) => s === 201)).toHaveLength(5);
		expect(statuses.filter((s) => s === 429)).toHaveLength(45);
		const refused = (await responses.find((r) => r.status === 429)?.json()) as Envelope;
		expect(refused.error.code).toBe("QUOTA_EXCEEDED");
		expect(await rows(running, sql`select coalesce(sum(size), 0)::int as n from media`)).toBe(
			5 * size,
		);
		// Every stored file has its message, and no message lacks its file.
		expect(
			await rows(running, sql`select count(*)::int as n from messages where media_id is not null`),
		).toBe(5);
		// A file bigger than the whole quota is 413.
		const huge = await upload(running, sessionId, 6 * size);
		expect(huge.status).toBe(413);
	}, 60_000);

	test("uploads at once per customer are capped; the slot comes back when one ends", async () => {
		const running = await start({
			rateLimits: { upload: 10_000, message: 10_000 },
			quotas: { concurrentUploadsPerCustomer: 1 },
		});
		const { sessionId } = await initSession(running.url);
		const [row] = await running.database.query<{ customer_id: string }>(
			sql`select customer_id from web_sessions where id = ${sessionId}`,
		);
		// The slot an upload under way holds, taken in the service's own quota keeper (the same one
		// its upload route uses): a second upload of that customer meanwhile is refused.
		const held = webQuotas({
			core: running.core,
			config: { quotas: { concurrentUploadsPerCustomer: 1 } },
		}).enterUpload(row?.customer_id as string);
		const refused = await upload(running, sessionId, 10);
		expect(refused.status).toBe(429);
		expect(((await refused.json()) as Envelope).error.code).toBe("QUOTA_EXCEEDED");
		held.release();
		expect((await upload(running, sessionId, 10)).status).toBe(201);
		// And an upload that ended gave its slot back: the next one is accepted too.
		expect((await upload(running, sessionId, 10)).status).toBe(201);
	}, 30_000);
});
