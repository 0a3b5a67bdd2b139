import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createPostgresDatabase, dropPostgresDatabase, onPostgres } from "../support/db.ts";
import { spawnService, startScriptEnvironment, tempDir } from "../support/process.ts";
import { TEST_APP_SECRET } from "../support/service.ts";

const root = join(import.meta.dir, "..", "..");
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
	for (const cleanup of cleanups) await cleanup();
});

/** An empty database for a child process: its own PostgreSQL database, or a new data dir. */
async function emptyDatabaseEnv(): Promise<Record<string, string>> {
	if (!onPostgres) return { DATA_DIR: tempDir("topicdesk-proc-") };
	const url = await createPostgresDatabase();
	cleanups.push(() => dropPostgresDatabase(url));
	return { DATABASE_URL: url, APP_SECRET: TEST_APP_SECRET, DATA_DIR: tempDir("topicdesk-proc-") };
}

describe("bun start", () => {
	test("runs without a bot, serves health and readiness, stops gracefully on SIGTERM", async () => {
		const child = await spawnService(["bun", "run", join(root, "src/index.ts")], {
			...(await emptyDatabaseEnv()),
		});
		const health = await fetch(`${child.url}/health`).then((r) => r.json());
		expect(health).toEqual({ success: true, data: { status: "ok", version: expect.any(String) } });
		const ready = await fetch(`${child.url}/health/ready`);
		expect(ready.status).toBe(200);
		expect(
			((await ready.json()) as { data: { checks: { bot: { detail: string } } } }).data.checks.bot
				.detail,
		).toBe("disabled");
		expect(child.output()).toContain("BOT_TOKEN is not set");
		const { code, ms } = await child.stop("SIGTERM");
		expect(code).toBe(0);
		expect(ms).toBeLessThan(5000);
	}, 60_000);

	test("an invalid environment stops startup with one line per problem", async () => {
		const proc = Bun.spawn(["bun", "run", join(root, "src/index.ts")], {
			env: { PATH: process.env.PATH ?? "", PORT: "nope", LOCALE: "xx" },
			stdout: "pipe",
			stderr: "pipe",
		});
		const code = await proc.exited;
		const stderr = await new Response(proc.stderr).text();
		expect(code).toBe(1);
		expect(stderr).toContain("PORT");
		expect(stderr).toContain("LOCALE");
	}, 30_000);
});

describe("the runtime's settings", () => {
	test("bun start, the image and the systemd unit run the service with the same ones", () => {
		const settings = startScriptEnvironment(root);
		// The JavaScript engine's top tier (FTL) is off: its compilations cost CPU at a light load and
		// make nothing faster.
		expect(settings).toEqual({ BUN_JSC_useFTLJIT: "0" });
		const image = readFileSync(join(root, "Dockerfile"), "utf8");
		const unit = readFileSync(join(root, "deploy", "topicdesk.service"), "utf8");
		for (const [name, value] of Object.entries(settings)) {
			expect(image).toMatch(new RegExp(`^\\s*(ENV\\s+)?${name}=${value}\\b`, "m"));
			expect(unit).toContain(`Environment=${name}=${value}\n`);
		}
	});
});

describe("single binary", () => {
	test("bun run build makes one executable that migrates an empty database and is ready", async () => {
		const build = Bun.spawnSync(["bun", "run", "build"], {
			cwd: root,
			stdout: "pipe",
			stderr: "pipe",
		});
		expect(build.exitCode).toBe(0);
		// Run from an unrelated directory: nothing may be read from the source tree.
		const child = await spawnService([join(root, "dist", "topicdesk")], await emptyDatabaseEnv(), {
			readyPath: "/health/ready",
			timeoutMs: 60_000,
			cwd: tempDir("topicdesk-cwd-"),
		});
		const ready = (await fetch(`${child.url}/health/ready`).then((r) => r.json())) as {
			data: { checks: { database: { ok: boolean } } };
		};
		expect(ready.data.checks.database.ok).toBe(true);
		// The widget is inside the binary: there is no source tree to build it from here.
		const widget = await fetch(`${child.url}/widget.js`);
		expect(widget.status).toBe(200);
		expect(await widget.text()).toContain("topicdesk");
		// A visitor's message: the routes read their session as the source tree's do (a minifier
		// that renames parameters hides the cookie from Elysia's compiled handlers).
		const init = (await fetch(`${child.url}/api/chat/init`, { method: "POST" }).then((r) =>
			r.json(),
		)) as { data: { sessionId: string } };
		const sent = await fetch(`${child.url}/api/chat/message`, {
			method: "POST",
			headers: { "content-type": "application/json", "x-session-id": init.data.sessionId },
			body: JSON.stringify({ text: "hello from the binary" }),
		});
		expect(sent.status).toBe(201);
		expect((await child.stop("SIGINT")).code).toBe(0);
	}, 120_000);
});
