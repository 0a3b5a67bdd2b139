/**
 * Logs as an operator reads them: in production one JSON line per event with
 * a stable `event` name, the request id on HTTP lines (echoed in `x-request-id`), the customer id
 * and never personal data on domain lines, and with LOG_LEVEL=debug one line per Telegram call
 * with its method and result. The service runs as a child process, exactly as deployed.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnService, tempDir } from "../support/process.ts";
import { writeConfigFile } from "../support/service.ts";
import { startTelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser } from "../support/telegram-flow.ts";
import { api, initSession } from "../support/web-client.ts";
import { entry } from "./cli.ts";

const tg = startTelegramDouble();
afterAll(() => tg.close());

test("production logs: JSON lines with events, request ids, customer ids, no personal data", async () => {
	const child = await spawnService(["bun", "run", entry], {
		NODE_ENV: "production",
		LOG_LEVEL: "debug",
		DATA_DIR: tempDir("td-logs-"),
		BOT_TOKEN: tg.token,
		SUPPORT_GROUP_ID: String(tg.groupId),
		TELEGRAM_API_URL: tg.url,
		CONFIG_FILE: writeConfigFile({
			outbox: {
				groupPerMinute: 1_000_000,
				privatePerSecond: 1_000_000,
				globalPerSecond: 1_000_000,
			},
		}),
	});
	let messageRequestId: string | null = null;
	try {
		// A web customer whose first message Telegram refuses for good: a dead item, a domain line.
		tg.failNext("createForumTopic", 1, {
			error_code: 400,
			description: "Bad Request: not enough rights to create a topic",
		});
		const init = await fetch(`${child.url}/api/chat/init`, {
			method: "POST",
			headers: { "x-request-id": "req-from-proxy-1" },
		});
		expect(init.headers.get("x-request-id")).toBe("req-from-proxy-1");
		expect(init.status).toBe(200);
		const session = await initSession(child.url);
		const sent = await api(child.url, "POST", "/api/chat/message", {
			session: session.sessionId,
			body: { text: "I am Zed Zebrowski, call +1 555 0100" },
		});
		expect(sent.status).toBe(201);
		messageRequestId = sent.headers.get("x-request-id");
		expect(messageRequestId).toMatch(/^[a-f0-9]{16}$/);
		// A Telegram customer: Bot API calls at debug level.
		tg.customerSends(newUser("Quentin", { last_name: "Quux", username: "qquux" }), "secret words");
		await eventually(() => child.output().includes('"event":"outbox.dead"'), 10_000);
		// Its question goes under the card (a sendMessage), which is pinned once the group is idle.
		await eventually(
			() => child.output().includes('"method":"pinChatMessage","result":"ok"'),
			10_000,
		);
	} finally {
		expect((await child.stop("SIGTERM")).code).toBe(0);
	}

	const lines = child
		.output()
		.split("\n")
		.filter((line) => line.trim() !== "");
	const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
	for (const entry of entries) {
		expect(typeof entry.time).toBe("string");
		expect(["debug", "info", "warn", "error"]).toContain(entry.level as string);
		expect(entry.event).toMatch(/^[a-z0-9_.]+$/);
	}
	const http = entries.filter((e) => e.event === "http.request");
	expect(
		http.find((e) => e.route === "/api/chat/init" && e.requestId === "req-from-proxy-1"),
	).toMatchObject({
		method: "POST",
		status: 200,
	});
	expect(
		http.find((e) => e.route === "/api/chat/message" && e.requestId === messageRequestId),
	).toMatchObject({ method: "POST", status: 201 });
	for (const line of http) expect(typeof line.requestId).toBe("string");
	const dead = entries.find((e) => e.event === "outbox.dead");
	expect(dead?.customerId).toMatch(/^[0-9a-f-]{36}$/);
	const calls = entries.filter((e) => e.event === "telegram.call");
	expect(calls.some((e) => e.method === "getMe" && e.result === "ok")).toBe(true);
	expect(calls.some((e) => e.method === "createForumTopic" && e.result === "400")).toBe(true);
	expect(calls.some((e) => e.method === "sendMessage" && e.result === "ok")).toBe(true);
	expect(calls.some((e) => e.method === "getUpdates" && e.result === "ok")).toBe(true);
	const everything = lines.join("\n");
	for (const personal of [
		"Zebrowski",
		"555 0100",
		"Quentin",
		"Quux",
		"qquux",
		"secret words",
		tg.token,
	])
		expect(everything).not.toContain(personal);
}, 60_000);
