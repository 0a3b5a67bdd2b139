/**
 * Several instances on one PostgreSQL: exactly one polls Telegram (an advisory
 * lock elects it), events reach a customer's sockets whichever instance committed them
 * (LISTEN/NOTIFY), and when the poller stops or dies another instance takes over within 10 s.
 *
 * On embedded PGlite there is only ever one process: the same tests check that it polls by
 * itself and uses the in-process bus.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningService } from "../../src/service.ts";
import {
	createPostgresDatabase,
	dropPostgresDatabase,
	freshDatabase,
	onPostgres,
	type TestDatabase,
} from "../support/db.ts";
import { type ChildService, spawnService, tempDir } from "../support/process.ts";
import { startTestService, TEST_APP_SECRET, writeConfigFile } from "../support/service.ts";
import { until } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { connectSocket, initSession, type SocketClient } from "../support/web-client.ts";

const root = join(import.meta.dir, "..", "..");
const configFile = { telegram: { pollTimeout: "2s" } };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

interface Instance {
	url: string;
}

interface Checks {
	bot: { ok: boolean; detail: string };
	events: { ok: boolean; detail: string };
}

async function checks(instance: Instance): Promise<Checks> {
	const body = (await (await fetch(`${instance.url}/health/ready`)).json()) as {
		data?: { checks: Checks };
		checks?: Checks;
	};
	return (body.data?.checks ?? body.checks) as Checks;
}

/** Waits until one instance polls and every other stands by; returns [poller, standbys]. */
async function elected<T extends Instance>(instances: T[]): Promise<[T, T[]]> {
	return until(
		"one poller, the others standing by",
		async () => {
			const states = await Promise.all(instances.map(async (i) => (await checks(i)).bot.detail));
			const polling = instances.filter((_, n) => states[n] === "polling");
			const standby = instances.filter((_, n) => states[n] === "standby");
			const [leader] = polling;
			return polling.length === 1 && leader && standby.length === instances.length - 1
				? ([leader, standby] as [T, T[]])
				: undefined;
		},
		10_000,
	);
}

/** A customer with an open widget on `instance`; returns the socket and the session. */
async function widgetOn(instance: Instance) {
	const { sessionId } = await initSession(instance.url);
	const socket = connectSocket(instance.url, `?session=${sessionId}`);
	await socket.next("connected");
	return { sessionId, socket };
}

/** Sends a first message from the widget and returns the topic the desk opened for it. */
async function openTopic(tg: TelegramDouble, socket: SocketClient, text: string) {
	socket.send({ type: "message", text });
	const sent = await tg.waitForCall(
		(c) => c.ok && c.method === "sendMessage" && showsText(c, `[WEB] ${text}`),
		{ timeoutMs: 10_000 },
	);
	return Number(sent.params.message_thread_id);
}

const supportSays = (socket: SocketClient, text: string, timeoutMs = 5000) =>
	socket.next((f) => f.type === "message" && f.data.text === text, timeoutMs);

const conflicts = (tg: TelegramDouble) =>
	tg.callsOf("getUpdates").filter((c) => c.errorCode === 409).length;

/** A single instance (PGlite): it is its own poller and its bus is in-process. */
async function singleInstanceWorks(tg: TelegramDouble, instance: Instance) {
	const state = await until(
		"the only instance polls",
		async () => {
			const found = await checks(instance);
			return found.bot.detail === "polling" ? found : undefined;
		},
		10_000,
	);
	expect(state).toEqual({
		bot: { ok: true, detail: "polling" },
		events: { ok: true, detail: "in-process" },
		database: expect.anything(),
	} as never);
	const { socket } = await widgetOn(instance);
	const threadId = await openTopic(tg, socket, "alone here");
	tg.operatorPosts(threadId, "Answered by the only instance.");
	await supportSays(socket, "Answered by the only instance.");
	socket.close();
	expect(conflicts(tg)).toBe(0);
}

describe("two instances in one process", () => {
	test("one polls, events cross instances, and stopping the poller hands polling over", async () => {
		const tg = startTelegramDouble();
		cleanups.push(() => tg.close());
		if (!onPostgres) {
			const db: TestDatabase = await freshDatabase();
			const only = await startTestService({ db, double: tg, configFile });
			cleanups.push(() => only.stop());
			await singleInstanceWorks(tg, only);
			return;
		}
		const url = await createPostgresDatabase();
		cleanups.push(() => dropPostgresDatabase(url));
		const db: TestDatabase = { url, engine: "postgres", drop: async () => {} };
		const first = await startTestService({ db, double: tg, configFile });
		cleanups.push(() => first.stop());
		const second = await startTestService({ db, double: tg, configFile });
		cleanups.push(() => second.stop());
		const [leader, [standby]] = await elected<RunningService>([first, second]);
		if (!standby) throw new Error("no standby");
		expect((await checks(standby)).events).toEqual({ ok: true, detail: "listen/notify" });

		// The widget lives on the instance that does not poll; a second tab on the poller.
		const { sessionId, socket } = await widgetOn(standby);
		const tab = connectSocket(leader.url, `?session=${sessionId}`);
		await tab.next("connected");
		const threadId = await openTopic(tg, socket, "Hello from the standby");
		// The echo committed on the standby reaches the tab on the other instance.
		expect((await tab.next("message")).data).toMatchObject({ text: "Hello from the standby" });

		// The poller receives the operator's reply; the widget on the standby gets the frame.
		tg.operatorPosts(threadId, "Reply received by the poller");
		expect((await supportSays(socket, "Reply received by the poller")).data).toMatchObject({
			from: "support",
			channel: "telegram",
		});
		await supportSays(tab, "Reply received by the poller");

		// Too large for one NOTIFY (8000 bytes): 4000 three-byte characters travel by reference.
		const long = "語".repeat(4000);
		const posted = tg.operatorPosts(threadId, long);
		expect((await supportSays(socket, long)).data.text).toHaveLength(4000);
		const edited = "訂".repeat(4000);
		tg.operatorEdits(threadId, posted.message_id, edited);
		const edit = await socket.next((f) => f.type === "message_edited");
		expect(edit.data).toMatchObject({ text: edited, editedAt: expect.any(String) });
		// The order of a customer's events holds across instances, large or small.
		const messages = socket.frames.filter((f) => f.type === "message").map((f) => f.data.text);
		expect(messages).toEqual(["Hello from the standby", "Reply received by the poller", long]);

		// The poller stops: the standby takes over within 10 s, and replies keep coming.
		const stoppedAt = Date.now();
		await leader.stop();
		await until(
			"the standby polls",
			async () => ((await checks(standby)).bot.detail === "polling" ? true : undefined),
			10_000,
		);
		expect(Date.now() - stoppedAt).toBeLessThan(10_000);
		tg.operatorPosts(threadId, "Reply after the handover");
		await supportSays(socket, "Reply after the handover", 10_000);
		socket.close();
		// Never two polls at once: Telegram would have answered one of them 409.
		expect(conflicts(tg)).toBe(0);
	}, 60_000);
});

describe("two processes", () => {
	test("kill -9 of the polling process: the other takes over within 10 s and delivers", async () => {
		const tg = startTelegramDouble();
		cleanups.push(() => tg.close());
		const env: Record<string, string> = {
			BOT_TOKEN: tg.token,
			SUPPORT_GROUP_ID: String(tg.groupId),
			TELEGRAM_API_URL: tg.url,
			CONFIG_FILE: writeConfigFile(configFile),
			NODE_ENV: "test",
			LOG_LEVEL: "warn",
		};
		const spawn = async (extra: Record<string, string>) => {
			const child = await spawnService(
				["bun", "run", join(root, "src/index.ts")],
				{ ...env, DATA_DIR: tempDir("topicdesk-instance-"), ...extra },
				{ timeoutMs: 60_000 },
			);
			cleanups.push(() => child.stop("SIGKILL"));
			return child;
		};
		if (!onPostgres) {
			await singleInstanceWorks(tg, await spawn({}));
			return;
		}
		const url = await createPostgresDatabase();
		cleanups.push(() => dropPostgresDatabase(url));
		const one = await spawn({ DATABASE_URL: url, APP_SECRET: TEST_APP_SECRET });
		const two = await spawn({ DATABASE_URL: url, APP_SECRET: TEST_APP_SECRET });
		const [leader, [survivor]] = await elected<ChildService>([one, two]);
		if (!survivor) throw new Error("no standby");

		leader.proc.kill("SIGKILL");
		await leader.proc.exited;
		const killedAt = Date.now();
		await until(
			"the survivor polls",
			async () => ((await checks(survivor)).bot.detail === "polling" ? true : undefined),
			10_000,
		);
		expect(Date.now() - killedAt).toBeLessThan(10_000);

		const { socket } = await widgetOn(survivor);
		const threadId = await openTopic(tg, socket, "Anyone still there?");
		tg.operatorPosts(threadId, "Still here, on the survivor.");
		await supportSays(socket, "Still here, on the survivor.", 10_000);
		socket.close();
		expect(conflicts(tg)).toBe(0);
		expect((await survivor.stop("SIGTERM")).code).toBe(0);
	}, 120_000);
});
