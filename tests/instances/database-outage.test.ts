/**
 * A database outage, for real: the test runs its own throwaway PostgreSQL cluster (initdb and
 * pg_ctl, as .ci/run does), points two instances at it, stops the cluster hard and starts it
 * again. While it is down, web requests get a clean 503 SERVICE_UNAVAILABLE envelope and
 * liveness stays up; once it is back, everything resumes without restarting the service:
 * requests, cross-instance events (LISTEN is re-established) and polling Telegram.
 *
 * It needs PostgreSQL's server binaries, not DATABASE_URL, so it runs on both engines' test runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DrizzleQueryError } from "drizzle-orm";
import postgres from "postgres";
import { isDatabaseUnavailable } from "../../src/db/errors.ts";
import type { RunningService } from "../../src/service.ts";
import { freePort } from "../support/process.ts";
import { startTestService } from "../support/service.ts";
import { until } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

/** The newest PostgreSQL server binaries on this machine, if any. */
function serverBinaries(): string | undefined {
	const base = "/usr/lib/postgresql";
	if (!existsSync(base)) return undefined;
	return readdirSync(base)
		.sort((a, b) => Number(a) - Number(b))
		.map((version) => join(base, version, "bin"))
		.filter((dir) => existsSync(join(dir, "initdb")))
		.at(-1);
}

/** Runs a shell command as the postgres user when we are root (initdb refuses root). */
async function asPostgres(command: string): Promise<void> {
	const argv =
		process.getuid?.() === 0
			? ["su", "postgres", "-s", "/bin/bash", "-c", command]
			: ["bash", "-c", command];
	const child = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
	const code = await child.exited;
	if (code !== 0)
		throw new Error(`${command} failed (${code}): ${await new Response(child.stderr).text()}`);
}

interface Cluster {
	url: string;
	start(): Promise<void>;
	stop(): Promise<void>;
	destroy(): Promise<void>;
}

async function createCluster(bin: string): Promise<Cluster> {
	const dir = mkdtempSync(join(tmpdir(), "topicdesk-outage-"));
	if (process.getuid?.() === 0) await Bun.spawn(["chown", "postgres", dir]).exited;
	const port = freePort();
	await asPostgres(`${bin}/initdb -D ${dir}/data -U postgres --auth=trust -E UTF8 >/dev/null`);
	const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`;
	const cluster: Cluster = {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		start: () => asPostgres(`${bin}/pg_ctl -D ${dir}/data -l ${dir}/log -w -o '${options}' start`),
		// Immediate: every connection is cut at once, as in a crash.
		stop: () => asPostgres(`${bin}/pg_ctl -D ${dir}/data -m immediate -w stop`),
		async destroy() {
			await cluster.stop().catch(() => undefined);
			await Bun.spawn(["rm", "-rf", dir]).exited;
		},
	};
	await cluster.start();
	return cluster;
}

const binaries = serverBinaries();
let cluster: Cluster | undefined;
let tg: TelegramDouble;
let desk: RunningService | undefined;
let other: RunningService | undefined;

beforeAll(async () => {
	tg = startTelegramDouble();
	if (binaries) cluster = await createCluster(binaries);
}, 60_000);
afterAll(async () => {
	try {
		await desk?.stop();
		await other?.stop();
		await tg?.close();
	} finally {
		// Never leave the throwaway server running, whatever failed above.
		await cluster?.destroy();
	}
}, 30_000);

describe("database outage", () => {
	test("503 SERVICE_UNAVAILABLE while PostgreSQL is down; everything resumes once it is back", async () => {
		if (!cluster) {
			// Without PostgreSQL's server binaries (a machine without Debian's postgresql package;
			// CI installs it) the outage cannot be staged; what can be checked is the start against a
			// database that is down: it fails at once with the reason, it does not hang or half-start.
			const down = {
				url: `postgres://postgres@127.0.0.1:${freePort()}/none`,
				engine: "postgres" as const,
				drop: async () => {},
			};
			await expect(startTestService({ db: down })).rejects.toThrow(
				/ECONNREFUSED|connect|CONNECTION/i,
			);
			return;
		}
		const db = { url: cluster.url, engine: "postgres" as const, drop: async () => {} };
		const configFile = { telegram: { pollTimeout: "2s" } };
		desk = await startTestService({ db, double: tg, configFile });
		other = await startTestService({ db });
		const { sessionId } = await initSession(desk.url);
		const socket = connectSocket(desk.url, `?session=${sessionId}`);
		await socket.next("connected");
		const tab = connectSocket(other.url, `?session=${sessionId}`);
		await tab.next("connected");
		socket.send({ type: "message", text: "before the outage" });
		await tab.next((f) => f.data.text === "before the outage");
		const sent = await tg.waitForCall(
			(c) => c.ok && c.method === "sendMessage" && showsText(c, "[WEB] before the outage"),
			{ timeoutMs: 10_000 },
		);
		const threadId = Number(sent.params.message_thread_id);
		const botState = async () => {
			const body = (await (await fetch(`${desk?.url}/health/ready`)).json()) as {
				data?: { checks: { bot: { detail: string } } };
				checks?: { bot: { detail: string } };
			};
			return (body.data?.checks ?? body.checks)?.bot.detail;
		};
		expect(await botState()).toBe("polling");

		await cluster.stop();
		const status = await api<unknown>(desk.url, "GET", "/api/chat/status", {
			session: sessionId,
		});
		expect(status.status).toBe(503);
		expect(status.body).toEqual({
			success: false,
			error: { code: "SERVICE_UNAVAILABLE", message: expect.any(String) },
		});
		expect(JSON.stringify(status.body)).not.toMatch(/ECONNREFUSED|select|postgres|at /i);
		const message = await api<Envelope>(desk.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "during the outage" },
		});
		expect(message.status).toBe(503);
		expect(message.body.error.code).toBe("SERVICE_UNAVAILABLE");
		expect((await fetch(`${desk.url}/health`)).status).toBe(200);
		const ready = await fetch(`${desk.url}/health/ready`);
		expect(ready.status).toBe(503);
		expect(((await ready.json()) as { checks: { database: unknown } }).checks.database).toEqual({
			ok: false,
			detail: "unreachable",
		});
		// The poller cannot confirm its lock any more (another instance may hold it by now): it
		// stops polling rather than risk two pollers.
		await until(
			"the desk stops polling",
			async () => ((await botState()) === "standby" ? true : undefined),
			10_000,
		);

		await cluster.start();
		// No restart: postgres.js reconnects on the next query (after its backoff).
		await until(
			"requests succeed again",
			async () =>
				(await api(desk?.url ?? "", "GET", "/api/chat/status", { session: sessionId })).status ===
				200
					? true
					: undefined,
			30_000,
		);
		const after = await api<Envelope<{ seq: number }>>(desk.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "after the outage" },
		});
		expect(after.status).toBe(201);
		// LISTEN is back on the other instance: a message sent on this one reaches its tab
		// (announcements made before it re-listened are lost; sockets catch up by seq).
		await until(
			"events cross instances again",
			async () => {
				socket.send({ type: "message", text: "are you listening?" });
				return (await tab
					.next((f) => f.data.text === "are you listening?", 1000)
					.catch(() => undefined))
					? true
					: undefined;
			},
			30_000,
		);
		// The lock is taken again and polling resumes.
		await until(
			"the desk polls again",
			async () => ((await botState()) === "polling" ? true : undefined),
			30_000,
		);
		tg.operatorPosts(threadId, "Back online.");
		await socket.next((f) => f.data.text === "Back online.", 10_000);
		socket.close();
		tab.close();
	}, 120_000);

	test("connection failures count as unavailable, also wrapped by Drizzle; query errors do not", async () => {
		const refused = postgres(`postgres://postgres@127.0.0.1:${freePort()}/postgres`, {
			max: 1,
			connect_timeout: 2,
			onnotice: () => {},
		});
		const error = await refused`select 1`.catch((e: unknown) => e);
		await refused.end({ timeout: 0 });
		expect(isDatabaseUnavailable(error)).toBe(true);
		expect(isDatabaseUnavailable(new DrizzleQueryError("select 1", [], error as Error))).toBe(true);
		for (const code of ["CONNECTION_CLOSED", "CONNECT_TIMEOUT", "57P01", "08006"])
			expect(isDatabaseUnavailable(Object.assign(new Error("x"), { code }))).toBe(true);
		expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
		expect(isDatabaseUnavailable(Object.assign(new Error("dup"), { code: "23505" }))).toBe(false);
		// A failing query whose parameters happen to say so is still a failing query.
		const duplicate = Object.assign(new Error("duplicate key"), { code: "23505" });
		expect(
			isDatabaseUnavailable(
				new DrizzleQueryError("insert into messages", ["connection refused"], duplicate),
			),
		).toBe(false);
		expect(isDatabaseUnavailable(new TypeError("undefined is not a function"))).toBe(false);
	});
});
