/**
 * Signed visitor identity: the site signs its logged-in visitor's id with IDENTITY_SECRET and the
 * widget sends it with `init`. One user is one customer on every device (one topic, one history,
 * live on every socket); an anonymous browser's history joins the user's on the first signed
 * `init`; a session of one user is never handed to another; a wrong signature is refused and
 * changes nothing; without IDENTITY_SECRET no identity is accepted.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { identityHash } from "../src/core/identity.ts";
import { telegramCustomers } from "./support/telegram-customers.ts";
import { eventually, useTelegramFlow } from "./support/telegram-flow.ts";
import { api, connectSocket, type Envelope } from "./support/web-client.ts";

const SECRET = "site-identity-secret-0123456789abcdef";

interface InitData {
	sessionId: string;
	isNewSession: boolean;
	hasHistory: boolean;
	verified: boolean;
}

const signed = (userId: string, extra: Record<string, unknown> = {}) => ({
	userId,
	hash: identityHash(SECRET, userId),
	...extra,
});

describe("signed visitor identity", () => {
	// Many `init`s from one address: the per-IP limit is lifted for the test.
	const flow = useTelegramFlow({ rateLimits: { init: 1000 } }, { IDENTITY_SECRET: SECRET });
	const customers = telegramCustomers(flow);

	const init = (body: unknown, session?: string) =>
		api<Envelope<InitData>>(flow().service.url, "POST", "/api/chat/init", { body, session });

	async function send(session: string, text: string) {
		const sent = await api(flow().service.url, "POST", "/api/chat/message", {
			session,
			body: { text },
		});
		expect(sent.status).toBe(201);
	}

	async function historyTexts(session: string): Promise<string[]> {
		const page = await api<Envelope<{ messages: { text: string }[] }>>(
			flow().service.url,
			"GET",
			"/api/chat/history",
			{ session },
		);
		expect(page.status).toBe(200);
		return page.body.data.messages.map((m) => m.text);
	}

	async function counts() {
		const [row] = await flow().service.database.query<{ customers: number; sessions: number }>(
			sql`select (select count(*) from customers)::int as customers,
				(select count(*) from web_sessions)::int as sessions`,
		);
		return row;
	}

	test("one user is one customer on every device: a message from the laptop shows live on the phone", async () => {
		const identity = signed("user-1001", {
			name: "Alice Example",
			email: "alice@example.com",
			fields: { plan: "Pro", order: "#1234" },
		});
		const laptop = await init({ identity });
		expect(laptop.status).toBe(200);
		expect(laptop.body.data).toMatchObject({ verified: true, isNewSession: true });
		const phone = await init({ identity });
		expect(phone.body.data.verified).toBe(true);
		expect(phone.body.data.sessionId).not.toBe(laptop.body.data.sessionId);
		const customerId = await customers.customerOfSession(laptop.body.data.sessionId);
		expect(await customers.customerOfSession(phone.body.data.sessionId)).toBe(customerId);

		const socket = connectSocket(flow().service.url, `?session=${phone.body.data.sessionId}`);
		await socket.next("connected");
		await send(laptop.body.data.sessionId, "Where is my order?");
		const live = await socket.next((f) => f.type === "message");
		expect(live.data.text).toBe("Where is my order?");
		socket.close();

		// The topic carries the name the site vouched for; the row keeps what it said.
		const { tg } = flow();
		const topic = await tg.waitForCall((c) => c.method === "createForumTopic" && c.ok, {
			since: 0,
		});
		expect(topic.params.name).toBe("Alice Example");
		// The card says what the site vouched for, marked as such.
		const card = await tg.waitForCall(
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.message_thread_id) ===
					Number((topic.result as { message_thread_id?: number }).message_thread_id) &&
				String(c.params.text).startsWith("📋"),
			{ since: 0 },
		);
		const lines = String(card.params.text).split("\n");
		const verified = lines.indexOf("✔ Verified by the site");
		expect(verified).toBeGreaterThan(0);
		expect(lines.slice(verified + 1, verified + 5)).toEqual([
			"Name: Alice Example",
			"Email: alice@example.com",
			"plan: Pro",
			"order: #1234",
		]);
		const [row] = await flow().service.database.query<{
			external_user_id: string;
			display_name: string;
			identity: { name: string; email: string; fields: Record<string, string> };
		}>(
			sql`select external_user_id, display_name, identity from customers where id = ${customerId}`,
		);
		expect(row).toMatchObject({
			external_user_id: "user-1001",
			display_name: "Alice Example",
			identity: { email: "alice@example.com", fields: { plan: "Pro", order: "#1234" } },
		});
		const kinds = (await customers.eventRows(customerId)).map((e) => e.kind);
		expect(kinds.filter((k) => k === "IDENTIFIED")).toHaveLength(1);
	});

	test("an anonymous browser becomes the user on the first signed init, keeping its session and history", async () => {
		const anonymous = await init({});
		const session = anonymous.body.data.sessionId;
		await send(session, "Hi, question before I signed in");
		const before = await customers.customerOfSession(session);
		const signedIn = await init({ identity: signed("user-2002") }, session);
		expect(signedIn.body.data).toMatchObject({
			sessionId: session,
			isNewSession: false,
			verified: true,
			hasHistory: true,
		});
		expect(await customers.customerOfSession(session)).toBe(before);
		// Another device of the same user sees that history.
		const other = await init({ identity: signed("user-2002") });
		expect(await historyTexts(other.body.data.sessionId)).toEqual([
			"Hi, question before I signed in",
		]);
	});

	test("an anonymous history joins a user who already has a conversation on another device", async () => {
		const phone = await init({ identity: signed("user-3003") });
		await send(phone.body.data.sessionId, "From the phone, signed in");
		const userCustomer = await customers.customerOfSession(phone.body.data.sessionId);
		// The user's topic exists before the join.
		await eventually(async () => {
			const [row] = await flow().service.database.query<{ topic_id: number | null }>(
				sql`select topic_id from customers where id = ${userCustomer}`,
			);
			return row?.topic_id != null;
		});

		const laptop = await init({});
		const laptopSession = laptop.body.data.sessionId;
		await send(laptopSession, "From the laptop, not signed in yet");
		const socket = connectSocket(flow().service.url, `?session=${laptopSession}`);
		await socket.next("connected");

		const joined = await init({ identity: signed("user-3003") }, laptopSession);
		expect(joined.body.data).toMatchObject({ sessionId: laptopSession, verified: true });
		const survivor = await customers.customerOfSession(laptopSession);
		expect(survivor).toBe(userCustomer);
		expect(await customers.customerOfSession(phone.body.data.sessionId)).toBe(survivor);
		expect((await historyTexts(phone.body.data.sessionId)).sort()).toEqual([
			"From the laptop, not signed in yet",
			"From the phone, signed in",
		]);
		// The laptop's open socket follows the merge: the phone's next message reaches it live.
		await send(phone.body.data.sessionId, "After the join");
		const live = await socket.next((f) => f.type === "message" && f.data.text === "After the join");
		expect(live.data.text).toBe("After the join");
		socket.close();
	});

	test("a session of one signed-in user is never handed to another: the other gets their own", async () => {
		const first = await init({ identity: signed("user-4004") });
		await send(first.body.data.sessionId, "Alice's private question");
		const firstCustomer = await customers.customerOfSession(first.body.data.sessionId);
		const second = await init({ identity: signed("user-5005") }, first.body.data.sessionId);
		expect(second.body.data).toMatchObject({
			verified: true,
			isNewSession: true,
			hasHistory: false,
		});
		expect(second.body.data.sessionId).not.toBe(first.body.data.sessionId);
		expect(await customers.customerOfSession(second.body.data.sessionId)).not.toBe(firstCustomer);
		expect(await historyTexts(second.body.data.sessionId)).toEqual([]);
		expect(second.headers.get("set-cookie")).toContain(second.body.data.sessionId);
		// The first user's session still works and is still theirs.
		expect(await customers.customerOfSession(first.body.data.sessionId)).toBe(firstCustomer);
	});

	test("a tampered id, a hash replayed for another user or a malformed hash is refused and changes nothing", async () => {
		const alice = await init({ identity: signed("user-6006") });
		const session = alice.body.data.sessionId;
		const before = await counts();
		const attempts = [
			{ userId: "user-6007", hash: identityHash(SECRET, "user-6006") },
			{ userId: "user-6006", hash: identityHash("another-secret-of-32-characters!!", "user-6006") },
			{ userId: "user-6006", hash: "zz" },
			{ userId: "user-6006", hash: `${identityHash(SECRET, "user-6006").slice(0, 63)}0` },
		];
		for (const identity of attempts) {
			for (const presented of [undefined, session]) {
				const refused = await init({ identity, name: "Mallory" }, presented);
				expect(refused.status).toBe(403);
				expect(refused.body.error.code).toBe("IDENTITY_INVALID");
				expect(refused.headers.get("set-cookie")).toBeNull();
			}
		}
		expect(await counts()).toEqual(before);
		expect(await customers.customerOfSession(session)).toBeTruthy();
	});

	test("identity fields are bounded and free of control characters", async () => {
		const before = await counts();
		const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"]));
		for (const identity of [
			signed("user-7007", { fields: tooMany }),
			signed("user-7007", { name: "x".repeat(129) }),
			signed("user-7007", { name: "Bob\u0007" }),
			{ userId: "user-7007" },
		]) {
			const refused = await init({ identity });
			expect(refused.status).toBe(400);
			expect(refused.body.success).toBe(false);
		}
		expect(await counts()).toEqual(before);
	});

	test("forget (the site's logout) clears the browser's session cookie", async () => {
		const forgotten = await api<Envelope<{ forgotten: boolean }>>(
			flow().service.url,
			"POST",
			"/api/chat/forget",
		);
		expect(forgotten.status).toBe(200);
		expect(forgotten.headers.get("set-cookie")).toMatch(/webchat_session=;.*Max-Age=0/i);
	});
});

describe("a desk without IDENTITY_SECRET", () => {
	const flow = useTelegramFlow();

	test("refuses any identity with 403 IDENTITY_INVALID and creates nothing", async () => {
		const refused = await api<Envelope>(flow().service.url, "POST", "/api/chat/init", {
			body: { identity: signed("user-8008") },
		});
		expect(refused.status).toBe(403);
		expect(refused.body.error.code).toBe("IDENTITY_INVALID");
		const [row] = await flow().service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers`,
		);
		expect(row?.n).toBe(0);
	});
});
