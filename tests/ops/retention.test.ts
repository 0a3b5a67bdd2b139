/**
 * Retention with second-scale durations from the config file: bookkeeping rows are
 * pruned after `retention.bookkeeping`, media bytes after `retention.media` leave a "file
 * expired" stub in history, and a pass runs once per interval for all instances together.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { testEnv } from "../support/service.ts";
import { eventually, newUser, topicIdOf, useTelegramFlow } from "../support/telegram-flow.ts";
import { api, type Envelope, initSession } from "../support/web-client.ts";

const flow = useTelegramFlow({
	retention: { bookkeeping: "1s", media: "4s", interval: "1s" },
	linkToken: { ttl: "1s" },
	rateLimits: { read: 100_000 },
});

// A 1×1 PNG.
const PNG = Uint8Array.from(
	atob(
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
	),
	(c) => c.charCodeAt(0),
);

interface HistoryMessage {
	id: string;
	imageUrl?: string;
	fileExpired?: boolean;
	fileName?: string;
}

async function history(url: string, session: string): Promise<HistoryMessage[]> {
	const page = await api<Envelope<{ messages: HistoryMessage[] }>>(
		url,
		"GET",
		"/api/chat/history",
		{
			session,
		},
	);
	expect(page.status).toBe(200);
	return page.body.data.messages;
}

async function count(service: RunningService, table: string, where = "true"): Promise<number> {
	const [row] = await service.database.query<{ n: number }>(
		sql.raw(`select count(*)::int as n from ${table} where ${where}`),
	);
	return Number(row?.n ?? 0);
}

describe("retention", () => {
	test("bookkeeping rows go after retention.bookkeeping; media bytes leave a file-expired stub", async () => {
		const { service, tg } = flow();
		// A web customer sends a picture; a Telegram customer writes (a processed update, delivered
		// outbox items); a link token is issued; an expired and a fresh entry context exist.
		const { sessionId } = await initSession(service.url);
		const form = new FormData();
		form.append("file", new File([PNG], "dot.png", { type: "image/png" }));
		const upload = await fetch(`${service.url}/api/chat/upload`, {
			method: "POST",
			headers: { "x-session-id": sessionId },
			body: form,
		});
		expect(upload.status).toBe(201);
		const [picture] = await history(service.url, sessionId);
		if (!picture?.imageUrl) throw new Error("the picture has no URL");
		expect((await fetch(picture.imageUrl)).status).toBe(200);
		const user = newUser("Kept");
		tg.customerSends(user, "hello");
		await topicIdOf(service, user.id);
		const link = await api(service.url, "POST", "/api/chat/link-telegram", { session: sessionId });
		expect(link.status).toBe(200);
		// An update set aside by the router as failed (kept for inspection, then pruned).
		await service.database.query(sql`insert into failed_updates (update_id, update, reason, attempts)
			values (999000111, '{"update_id": 999000111}', 'test', 4)`);
		await service.database.query(sql`insert into entry_contexts (id, expires_at)
			values ('expired-context', now() - interval '1 hour'),
				('fresh-context', now() + interval '1 hour')`);
		expect(await count(service, "processed_updates")).toBeGreaterThan(0);
		await eventually(async () => (await count(service, "outbox", "state = 'done'")) > 0);

		// The observable end: every kind of bookkeeping row gone, the picture a stub.
		await eventually(async () => {
			const [message] = await history(service.url, sessionId);
			return message?.fileExpired === true;
		}, 20_000);
		const [stub] = await history(service.url, sessionId);
		expect(stub?.imageUrl).toBeUndefined();
		expect(stub?.fileName).toBe("dot.png");
		expect((await fetch(picture.imageUrl)).status).toBe(404);
		const [bytes] = await service.database.query<{ bytes: unknown; expired_at: unknown }>(
			sql`select bytes, expired_at from media`,
		);
		expect(bytes?.bytes).toBeNull();
		expect(bytes?.expired_at).not.toBeNull();
		await eventually(
			async () =>
				(await count(service, "processed_updates")) === 0 &&
				(await count(service, "outbox", "state = 'done'")) === 0 &&
				(await count(service, "link_tokens")) === 0 &&
				(await count(service, "failed_updates")) === 0 &&
				(await count(service, "entry_contexts", "id = 'expired-context'")) === 0,
			10_000,
		);
		// Only what is past its time: the fresh entry context and the messages stay.
		expect(await count(service, "entry_contexts", "id = 'fresh-context'")).toBe(1);
		expect(await count(service, "messages")).toBeGreaterThanOrEqual(2);
	}, 40_000);
});

describe("once per instance set", () => {
	const services: RunningService[] = [];
	afterAll(async () => {
		for (const service of services) await service.stop();
	});

	test("three instances on one database run one pass per interval between them", async () => {
		const { db, service } = flow();
		// Two more instances next to the flow's, all with a one-second interval.
		for (let n = 0; n < 2; n++) {
			const loaded = loadConfig(
				testEnv({ db, configFile: { retention: { bookkeeping: "1s", interval: "1s" } } }),
			);
			if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
			services.push(await startService(loaded.config, { pglite: db.pglite, log: silentLogger }));
		}
		// Each pass moves the claim's timestamp: distinct values seen are the passes made.
		const seen = new Set<string>();
		const since = Date.now();
		await eventually(async () => {
			const [row] = await service.database.query<{ at: string }>(
				sql`select updated_at::text as at from settings where key = 'retention.last_run'`,
			);
			if (row) seen.add(row.at);
			return Date.now() - since >= 5000;
		}, 10_000);
		const elapsed = (Date.now() - since) / 1000;
		// One pass per instance would make about three a second; the set makes about one.
		expect(seen.size).toBeGreaterThanOrEqual(3);
		expect(seen.size).toBeLessThanOrEqual(Math.ceil(elapsed) + 1);
	}, 30_000);
});
