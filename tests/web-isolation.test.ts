/**
 * Sessions and isolation: where a session id may come from, which ids are
 * adopted, the cookie's attributes, and that one customer never reaches another's data.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { api, connectSocket, type Envelope, initSession } from "./support/web-client.ts";

let db: TestDatabase;
let service: RunningService;
let production: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	service = await startTestService({ db });
	production = await startTestService({ db, env: { NODE_ENV: "production" } });
});
afterAll(async () => {
	await service?.stop();
	await production?.stop();
	await db?.drop();
});

type History = Envelope<{ messages: { id: string; text: string; imageUrl?: string }[] }>;

describe("sessions", () => {
	test("development cookie: HttpOnly, Path=/, a year, SameSite=Lax", async () => {
		const { cookie } = await initSession(service.url);
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/Path=\//);
		expect(cookie).toMatch(/Max-Age=31536000/);
		expect(cookie).toMatch(/SameSite=Lax/i);
		expect(cookie).not.toMatch(/Secure/i);
	});

	test("production cookie: SameSite=None; Secure; Partitioned", async () => {
		const { cookie } = await initSession(production.url);
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=None/i);
		expect(cookie).toMatch(/Secure/i);
		expect(cookie).toMatch(/Partitioned/i);
	});

	test("an id the server did not issue is never adopted", async () => {
		const invented = crypto.randomUUID();
		const response = await api<Envelope<{ sessionId: string; isNewSession: boolean }>>(
			service.url,
			"POST",
			"/api/chat/init",
			{
				headers: { "x-session-id": invented },
			},
		);
		expect(response.body.data.isNewSession).toBe(true);
		expect(response.body.data.sessionId).not.toBe(invented);
		expect((await api(service.url, "GET", "/api/chat/status", { session: invented })).status).toBe(
			401,
		);
	});

	test("an issued session resumes from cookie, header or query, cookie first", async () => {
		const a = await initSession(service.url);
		const b = await initSession(service.url);
		await api(service.url, "POST", "/api/chat/message", {
			session: a.sessionId,
			body: { text: "from a" },
		});
		const resumed = await api<
			Envelope<{ sessionId: string; isNewSession: boolean; hasHistory: boolean }>
		>(service.url, "POST", "/api/chat/init", {
			headers: { cookie: `webchat_session=${a.sessionId}`, "x-session-id": b.sessionId },
		});
		expect(resumed.body.data).toMatchObject({
			sessionId: a.sessionId,
			isNewSession: false,
			hasHistory: true,
		});
		expect(resumed.headers.get("set-cookie")).toBeNull();
		// `?session=` is accepted on the WebSocket upgrade only: over HTTP it is no session.
		const byQuery = await api(service.url, "GET", `/api/chat/history?session=${a.sessionId}`);
		expect(byQuery.status).toBe(401);
		const socketByQuery = connectSocket(service.url, `?session=${a.sessionId}`);
		expect((await socketByQuery.next("connected")).data.sessionId).toBe(a.sessionId);
		socketByQuery.close();
		const socket = connectSocket(service.url, "", {
			headers: { cookie: `webchat_session=${a.sessionId}` },
		});
		expect((await socket.next("connected")).data.sessionId).toBe(a.sessionId);
		socket.close();
	});
});

describe("one customer never reaches another's data", () => {
	test("history cursors, replies, uploads and media of another customer are out of reach", async () => {
		const alice = (await initSession(service.url)).sessionId;
		const mallory = (await initSession(service.url)).sessionId;
		const sent = await api<Envelope<{ messageId: string }>>(
			service.url,
			"POST",
			"/api/chat/message",
			{
				session: alice,
				body: { text: "alice's secret" },
			},
		);
		const aliceMessage = sent.body.data.messageId;
		for (const query of [`before=${aliceMessage}`, `after=${aliceMessage}`]) {
			const page = await api<Envelope>(service.url, "GET", `/api/chat/history?${query}`, {
				session: mallory,
			});
			// Answered like any id that is not a message of this chat: an empty page.
			expect(page.status).toBe(200);
			expect(page.body.data).toEqual({ messages: [], hasMore: false, oldestId: null });
			expect(JSON.stringify(page.body)).not.toContain("alice's secret");
		}
		const reply = await api<Envelope>(service.url, "POST", "/api/chat/message", {
			session: mallory,
			body: { text: "hijack", replyTo: aliceMessage },
		});
		expect(reply.status).toBe(400);
		const form = new FormData();
		form.append(
			"file",
			new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1])]),
			"a.png",
		);
		await fetch(`${service.url}/api/chat/upload`, {
			method: "POST",
			headers: { "x-session-id": alice },
			body: form,
		});
		const aliceHistory = await api<History>(service.url, "GET", "/api/chat/history", {
			session: alice,
		});
		const imageUrl = aliceHistory.body.data.messages.find((m) => m.imageUrl)?.imageUrl ?? "";
		const mediaId = /media\/([0-9a-f-]{36})/.exec(imageUrl)?.[1];
		expect(mediaId).toBeDefined();
		for (const guess of [`/api/media/${mediaId}`, `/api/media/${mediaId}?exp=9999999999&sig=x`]) {
			const response = await fetch(`${service.url}${guess}`, {
				headers: { "x-session-id": mallory },
			});
			expect(response.status).toBe(403);
		}
		const malloryHistory = await api<History>(service.url, "GET", "/api/chat/history", {
			session: mallory,
		});
		expect(malloryHistory.body.data.messages).toEqual([]);
		await api(service.url, "POST", "/api/chat/close", { session: mallory, body: {} });
		const aliceStatus = await api<Envelope<{ status: string }>>(
			service.url,
			"GET",
			"/api/chat/status",
			{ session: alice },
		);
		expect(aliceStatus.body.data.status).toBe("NEW");
	});
});
