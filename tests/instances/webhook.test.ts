/**
 * Webhook mode end to end: the service registers its own `/telegram/webhook` with the
 * Bot API double, which then POSTs every update there (retrying until 2xx) instead of answering
 * getUpdates. The secret header is required; an update delivered twice is applied once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { Elysia } from "elysia";
import type { TelegramMessage, TelegramUpdate } from "gramio";
import { silentLogger } from "../../src/observability/logger.ts";
import type { RunningService } from "../../src/service.ts";
import { jsonBodies } from "../../src/web/body.ts";
import { errorHandling } from "../../src/web/errors.ts";
import { webhookRoutes } from "../../src/web/webhook-routes.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { freePort } from "../support/process.ts";
import { startTestService } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, showsText } from "../support/telegram-flow.ts";
import {
	connectSocket,
	type Envelope,
	initSession,
	type SocketClient,
} from "../support/web-client.ts";

const SECRET = "webhook_Secret-0123456789_abcdefghij";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
let hookUrl: string;
let widget: SocketClient;
let threadId: number;

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	// Telegram must know the webhook URL before the service listens, so the port is chosen here.
	const port = freePort();
	hookUrl = `http://127.0.0.1:${port}/telegram/webhook`;
	service = await startTestService({
		db,
		double: tg,
		env: {
			PORT: String(port),
			TELEGRAM_MODE: "webhook",
			TELEGRAM_WEBHOOK_URL: hookUrl,
			TELEGRAM_WEBHOOK_SECRET: SECRET,
		},
	});
	const { sessionId } = await initSession(service.url);
	widget = connectSocket(service.url, `?session=${sessionId}`);
	await widget.next("connected");
	widget.send({ type: "message", text: "Is the webhook on?" });
	const sent = await tg.waitForCall(
		(c) => c.ok && c.method === "sendMessage" && showsText(c, "[WEB] Is the webhook on?"),
		{ timeoutMs: 10_000 },
	);
	threadId = Number(sent.params.message_thread_id);
}, 30_000);
afterAll(async () => {
	widget?.close();
	await service?.stop();
	await tg?.close();
	await db?.drop();
}, 30_000);

/** POSTs an update to the service's webhook as Telegram would, with the given secret header. */
function deliver(update: TelegramUpdate, secret?: string) {
	const headers: Record<string, string> = { "content-type": "application/json" };
	if (secret !== undefined) headers["x-telegram-bot-api-secret-token"] = secret;
	return fetch(hookUrl, { method: "POST", headers, body: JSON.stringify(update) });
}

/** An operator's topic message the double never sent: a real one's shape, a new id and text. */
function handMadeUpdate(template: TelegramMessage, updateId: number, text: string): TelegramUpdate {
	const message = { ...template, message_id: template.message_id + 100_000 + updateId, text };
	return { update_id: updateId, message } as TelegramUpdate;
}

const storedWithText = async (text: string) =>
	Number(
		(
			await service.database.query<{ n: string }>(
				sql`select count(*) as n from messages where text = ${text}`,
			)
		)[0]?.n,
	);
const processed = async (updateId: number) =>
	Number(
		(
			await service.database.query<{ n: string }>(
				sql`select count(*) as n from processed_updates where update_id = ${updateId}`,
			)
		)[0]?.n,
	);

/**
 * An operator's real reply, delivered by the double through the webhook after everything before
 * it; resolves once the widget shows it and the double has its 2xx.
 */
async function marker(text: string) {
	tg.operatorPosts(threadId, text);
	await widget.next((f) => f.type === "message" && f.data.text === text);
	await tg.waitForUpdateConfirmed();
}

describe("webhook mode", () => {
	test("setWebhook names the service's endpoint with the secret; nothing polls", async () => {
		const call = await tg.waitForCall((c) => c.method === "setWebhook" && c.ok);
		expect(call.params).toMatchObject({ url: hookUrl, secret_token: SECRET });
		expect(call.params.allowed_updates).toEqual(["message", "edited_message", "callback_query"]);
		const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as Envelope<{
			checks: { bot: { ok: boolean; detail: string } };
		}>;
		expect(ready.data.checks.bot).toEqual({ ok: true, detail: "webhook" });
		expect(tg.callsOf("getUpdates")).toHaveLength(0);
	});

	test("an operator's reply in the topic reaches the widget through the webhook", async () => {
		tg.operatorPosts(threadId, "Yes, updates come by webhook.");
		const frame = await widget.next((f) => f.type === "message" && f.data.from === "support");
		expect(frame.data).toMatchObject({
			text: "Yes, updates come by webhook.",
			channel: "telegram",
		});
		// The double confirmed it: the webhook answered 2xx.
		await eventually(() => tg.pendingUpdates.length === 0);
	});

	test("a wrong or missing secret gets 401 and nothing is processed", async () => {
		const template = tg.operatorPosts(threadId, "template for the forged one");
		await widget.next((f) => f.data.text === "template for the forged one");
		const forged = handMadeUpdate(template, 7_000_001, "forged reply");
		for (const secret of ["wrong-secret", undefined, "", `${SECRET}x`]) {
			const response = await deliver(forged, secret);
			expect(response.status).toBe(401);
			expect(await response.json()).toEqual({
				success: false,
				error: { code: "UNAUTHORIZED", message: expect.any(String) },
			});
		}
		// A later real update reaches the widget: whatever came before it was applied and published.
		await marker("after the forged ones");
		expect(await storedWithText("forged reply")).toBe(0);
		expect(await processed(7_000_001)).toBe(0);
		expect(widget.frames.some((f) => f.data?.text === "forged reply")).toBe(false);
	});

	test("the same update delivered twice is applied once", async () => {
		const template = tg.operatorPosts(threadId, "template for the repeated one");
		await widget.next((f) => f.data.text === "template for the repeated one");
		const update = handMadeUpdate(template, 7_000_002, "delivered twice, applied once");
		const first = await deliver(update, SECRET);
		expect(first.status).toBe(200);
		const second = await deliver(update, SECRET);
		expect(second.status).toBe(200);
		await widget.next((f) => f.data.text === "delivered twice, applied once");
		// Both deliveries were answered after their commit; a later real update reaches the widget
		// after anything either of them published.
		await marker("after the repeated one");
		expect(await storedWithText("delivered twice, applied once")).toBe(1);
		expect(await processed(7_000_002)).toBe(1);
		expect(
			widget.frames.filter((f) => f.data?.text === "delivered twice, applied once"),
		).toHaveLength(1);
	});

	test("a body that is not an update is refused without effect, even with the secret", async () => {
		const response = await fetch(hookUrl, {
			method: "POST",
			headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
			body: JSON.stringify({ message: { text: "no update id" } }),
		});
		expect(response.status).toBe(400);
		expect(((await response.json()) as Envelope).error.code).toBe("INVALID_REQUEST");
		expect(await storedWithText("no update id")).toBe(0);
	});

	test("an update whose handling fails is answered 5xx, so Telegram delivers it again", async () => {
		let attempts = 0;
		const app = new Elysia()
			.use(errorHandling(silentLogger))
			.use(jsonBodies())
			.use(
				webhookRoutes(() => ({
					secret: SECRET,
					handle: async () => {
						attempts++;
						throw new Error("the transaction failed");
					},
				})),
			);
		const response = await app.handle(
			new Request("http://desk/telegram/webhook", {
				method: "POST",
				headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
				body: JSON.stringify({ update_id: 1, message: { message_id: 1 } }),
			}),
		);
		expect(attempts).toBe(1);
		expect(response.status).toBe(500);
		expect(((await response.json()) as Envelope).error.code).toBe("INTERNAL_ERROR");
	});

	test("without webhook mode the endpoint does not exist", async () => {
		const polling = await startTestService({ db });
		try {
			const response = await fetch(`${polling.url}/telegram/webhook`, {
				method: "POST",
				headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
				body: JSON.stringify({ update_id: 7_000_003 }),
			});
			expect(response.status).toBe(404);
			expect(((await response.json()) as Envelope).error.code).toBe("NOT_FOUND");
			expect(await processed(7_000_003)).toBe(0);
		} finally {
			await polling.stop();
		}
	});
});
