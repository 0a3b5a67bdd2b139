/**
 * deploy/Caddyfile with Debian's caddy in front of two topicdesk processes on one PostgreSQL
 * database, as a self-hoster runs them: the widget's WebSocket through the proxy, the visitor's
 * address as the service sees it through X-Forwarded-For with TRUST_PROXY, /metrics kept off the
 * proxy, and one instance stopped: its sockets reconnect to the other and catch up on what was
 * said meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { clientKey } from "../../src/core/client-key.ts";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/db.ts";
import { type ChildService, freePort, spawnService, tempDir } from "../support/process.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import {
	api,
	connectSocket,
	type Envelope,
	initSession,
	type SocketClient,
} from "../support/web-client.ts";

const root = join(import.meta.dir, "..", "..");
const CADDYFILE = join(root, "deploy", "Caddyfile");
const METRICS_TOKEN = "metrics-token-0123456789";

if (!process.env.DATABASE_URL) throw new Error("DATABASE_URL must name the test PostgreSQL server");

let tg: TelegramDouble;
let databaseUrl: string;
const instances: ChildService[] = [];
let caddy: Subprocess<"ignore", "pipe", "pipe">;
let caddyOutput = "";
/** The proxy as a visitor reaches it: over IPv6 loopback, an address no instance connects from. */
let proxy: string;

/** `caddy <args>` on deploy/Caddyfile with `env`, Caddy's state kept in a temporary directory. */
function caddyEnv(env: Record<string, string>) {
	const home = tempDir("td-caddy-");
	return {
		PATH: process.env.PATH ?? "",
		HOME: home,
		XDG_DATA_HOME: home,
		XDG_CONFIG_HOME: home,
		...env,
	};
}

beforeAll(async () => {
	tg = startTelegramDouble();
	databaseUrl = await createPostgresDatabase();
	const port = freePort();
	proxy = `http://[::1]:${port}`;
	const config = join(tempDir("td-caddy-config-"), "config.json");
	// The group's flood budget (20 a minute) would pace this test's dozen topics by the minute.
	const outbox = { groupPerMinute: 600, globalPerSecond: 100 };
	writeFileSync(config, JSON.stringify({ telegram: { pollTimeout: "2s" }, outbox }));
	const env = {
		DATABASE_URL: databaseUrl,
		BOT_TOKEN: tg.token,
		SUPPORT_GROUP_ID: String(tg.groupId),
		TELEGRAM_API_URL: tg.url,
		APP_SECRET: "an-application-secret-shared-by-both-x",
		METRICS_TOKEN,
		TRUST_PROXY: "true",
		PUBLIC_URL: proxy,
		CONFIG_FILE: config,
	};
	// One after the other: the first migrates the empty database.
	for (let i = 0; i < 2; i++)
		instances.push(
			await spawnService(
				["bun", "run", join(root, "src/index.ts")],
				{ ...env, DATA_DIR: tempDir("td-caddy-data-") },
				{ readyPath: "/health/ready", timeoutMs: 60_000 },
			),
		);
	caddy = Bun.spawn(["caddy", "run", "--config", CADDYFILE, "--adapter", "caddyfile"], {
		env: caddyEnv({
			DOMAIN: `http://:${port}`,
			UPSTREAMS: instances.map((instance) => new URL(instance.url).host).join(" "),
			CADDY_ADMIN: "off",
		}),
		stdin: "ignore",
		stdout: "pipe",
		stderr: "pipe",
	});
	void (async () => {
		for await (const chunk of caddy.stderr) caddyOutput += new TextDecoder().decode(chunk);
	})();
	for (let tries = 0; ; tries++) {
		const status = await fetch(`${proxy}/health`).then(
			(response) => response.status,
			() => 0,
		);
		if (status === 200) break;
		if (tries > 100 || caddy.exitCode !== null)
			throw new Error(`caddy did not come up (${status}):\n${caddyOutput}`);
		await Bun.sleep(100);
	}
}, 180_000);

afterAll(async () => {
	caddy?.kill();
	await caddy?.exited;
	for (const instance of instances) if (instance.proc.exitCode === null) await instance.stop();
	await tg?.close();
	if (databaseUrl) await dropPostgresDatabase(databaseUrl);
}, 30_000);

/** A visitor through the proxy: a session and an open widget socket. */
async function visitor() {
	const { sessionId } = await initSession(proxy);
	const socket = connectSocket(proxy, `?session=${sessionId}`);
	await socket.next("connected");
	return { sessionId, socket };
}

/** Sends a message over the socket; its echo, and the topic the service posted it to. */
async function say(socket: SocketClient, text: string) {
	socket.send({ type: "message", text });
	const echo = await socket.next((frame) => frame.type === "message" && frame.data.text === text);
	const posted = await tg.waitForCall(
		(call) => call.method === "sendMessage" && showsText(call, `[WEB] ${text}`) && call.ok,
		{ timeoutMs: 20_000 },
	);
	return { id: String(echo.data.id), threadId: Number(posted.params.message_thread_id) };
}

describe("Caddy in front of two instances", () => {
	test("caddy validate accepts deploy/Caddyfile as compose configures it", async () => {
		const proc = Bun.spawn(["caddy", "validate", "--config", CADDYFILE, "--adapter", "caddyfile"], {
			env: caddyEnv({ DOMAIN: "support.example.com" }),
			stdout: "pipe",
			stderr: "pipe",
		});
		const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
		expect(code).toBe(0);
		expect(stdout).toContain("Valid configuration");
	});

	test("the visitor's address reaches the service through X-Forwarded-For; one they forge does not", async () => {
		const response = await fetch(`${proxy}/api/chat/init`, {
			method: "POST",
			headers: { "x-forwarded-for": "203.0.113.9" },
		});
		expect(response.status).toBe(200);
		const { data } = (await response.json()) as { data: { sessionId: string } };
		const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
		try {
			const [row] = await sql`select client_key from web_sessions where id = ${data.sessionId}`;
			// The proxy's own address (127.0.0.1) would mean TRUST_PROXY was not applied.
			expect(row?.client_key).toBe(clientKey("::1"));
		} finally {
			await sql.end();
		}
	});

	test("/metrics is not served through the proxy, even with the token; each instance serves it", async () => {
		const authorization = { authorization: `Bearer ${METRICS_TOKEN}` };
		const direct = await fetch(`${instances[0]?.url}/metrics`, { headers: authorization });
		expect(direct.status).toBe(200);
		for (const path of ["/metrics", "/metrics/", "/METRICS", "//metrics", "/metrics?format=text"]) {
			const response = await fetch(`${proxy}${path}`, { headers: authorization });
			const body = await response.text();
			expect({ path, status: response.status }).toEqual({ path, status: 404 });
			expect(body).not.toContain("# HELP");
		}
	});

	test("the widget's WebSocket through the proxy: a message reaches its topic, the reply the socket", async () => {
		const { socket } = await visitor();
		const { threadId } = await say(socket, "Hello through the proxy");
		tg.operatorPosts(threadId, "Hello back");
		const reply = await socket.next((frame) => frame.data.from === "support", 20_000);
		expect(reply.data).toMatchObject({ text: "Hello back", channel: "telegram" });
		socket.close();
	}, 60_000);

	test("one instance stopped: its sockets reconnect to the other and catch up, nothing lost", async () => {
		// least_conn spreads the sockets over both instances.
		const visitors = [];
		for (let i = 0; i < 4; i++) {
			const { sessionId, socket } = await visitor();
			visitors.push({ sessionId, socket, ...(await say(socket, `Question ${i}`)) });
		}
		const stopped = instances[0] as ChildService;
		expect((await stopped.stop("SIGTERM")).code).toBe(0);
		const closed = [];
		for (const v of visitors)
			if (
				await Promise.race([v.socket.closed.then(() => true), Bun.sleep(3_000).then(() => false)])
			)
				closed.push(v);
		expect(closed.length).toBeGreaterThan(0);
		expect(closed.length).toBeLessThan(visitors.length);

		// Answers while those visitors are away.
		for (const [i, v] of visitors.entries()) tg.operatorPosts(v.threadId, `Answer ${i}`);
		for (const [i, v] of visitors.entries()) {
			if (closed.includes(v)) {
				v.socket = connectSocket(proxy, `?session=${v.sessionId}`);
				await v.socket.next("connected");
			}
			// What the widget does on (re)connecting: ask for everything after the last message it has.
			let answers: string[] = [];
			for (let tries = 0; tries < 100 && answers.length === 0; tries++) {
				const page = await api<Envelope<{ messages: { text: string; from: string }[] }>>(
					proxy,
					"GET",
					`/api/chat/history?after=${v.id}`,
					{ session: v.sessionId },
				);
				answers = page.body.data.messages.map((message) => `${message.from}: ${message.text}`);
				if (answers.length === 0) await Bun.sleep(200);
			}
			expect(answers).toEqual([`support: Answer ${i}`]);
			// And the conversation goes on in the same topic, served by the instance left.
			expect((await say(v.socket, `Thanks ${i}`)).threadId).toBe(v.threadId);
			v.socket.close();
		}
	}, 120_000);
});
