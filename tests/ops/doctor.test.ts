/**
 * The bot checks: `topicdesk doctor` (one line per check, exit 0/1), the startup log
 * and `/health/ready`, against the Bot API double set up right or wrong in each way a
 * self-hoster gets it wrong.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { tempDir } from "../support/process.ts";
import { testEnv } from "../support/service.ts";
import {
	DEFAULT_OPERATOR,
	startTelegramDouble,
	type TelegramDouble,
} from "../support/telegram-double.ts";
import { runCommand } from "./cli.ts";

let tg: TelegramDouble;
beforeAll(() => {
	tg = startTelegramDouble({ groupTitle: "Acme Support" });
});
afterEach(() => tg.reset());
afterAll(() => tg.close());

function doctor(env: Record<string, string> = {}) {
	return runCommand(["doctor"], {
		BOT_TOKEN: tg.token,
		SUPPORT_GROUP_ID: String(tg.groupId),
		TELEGRAM_API_URL: tg.url,
		DATA_DIR: tempDir("td-doctor-"),
		...env,
	});
}

const lines = (text: string) => text.split("\n").filter(Boolean);

describe("topicdesk doctor", () => {
	test("a well set up bot and group: every check ✓, exit 0", async () => {
		const result = await doctor();
		expect(result.code).toBe(0);
		const out = lines(result.stdout);
		expect(out).toContain("✓ Telegram accepts the token: Topicdesk Test Bot (@topicdesk_test_bot)");
		expect(out).toContain(`✓ The bot is in group Acme Support (${tg.groupId})`);
		expect(out).toContain("✓ Acme Support is a forum (Topics on)");
		expect(out).toContain("✓ @topicdesk_test_bot is an administrator in Acme Support");
		expect(out).toContain("✓ @topicdesk_test_bot may manage topics");
		expect(out).toContain("✓ @topicdesk_test_bot may pin messages");
		expect(out).toContain("✓ Acme Support has a human administrator");
		expect(out).toContain("✓ No other program reads this bot's updates");
		expect(out.filter((line) => line.startsWith("✗"))).toEqual([]);
		expect(out.at(-1)).toBe("doctor: all checks passed");
	}, 30_000);

	test("the bot as a plain member: ✗ with the fix, exit 1", async () => {
		tg.setBotRights("member");
		const result = await doctor();
		expect(result.code).toBe(1);
		expect(result.stdout).toContain(
			"✗ @topicdesk_test_bot is an administrator in Acme Support — Make @topicdesk_test_bot an administrator: group → Administrators → Add admin.",
		);
		expect(result.stdout).toContain(
			"✗ @topicdesk_test_bot may manage topics — Edit @topicdesk_test_bot's admin rights and turn on Manage Topics.",
		);
	}, 30_000);

	test("a group without topics, an admin without pin rights, no human admin", async () => {
		tg.setForum(false);
		tg.setBotRights({ can_pin_messages: false });
		tg.setAdministrators(tg.model.admins.filter((m) => m.user.id !== DEFAULT_OPERATOR.id));
		const result = await doctor();
		tg.setForum(true);
		expect(result.code).toBe(1);
		const out = lines(result.stdout);
		expect(out).toContain(
			"✗ Acme Support is a forum (Topics on) — Turn on Topics: group → Edit → Topics (owner only).",
		);
		expect(out).toContain("✓ @topicdesk_test_bot may manage topics");
		expect(out).toContain(
			"✗ @topicdesk_test_bot may pin messages — Edit @topicdesk_test_bot's admin rights and turn on Pin Messages.",
		);
		expect(out).toContain(
			"✗ Acme Support has a human administrator — Make at least one person an administrator; reminders go to them.",
		);
	}, 30_000);

	test("a wrong SUPPORT_GROUP_ID, a rejected token, a malformed token, no bot at all", async () => {
		const wrongGroup = await doctor({ SUPPORT_GROUP_ID: "-1009999999999" });
		expect(wrongGroup.code).toBe(1);
		expect(wrongGroup.stdout).toContain(
			"✗ The bot is in group -1009999999999 — The bot isn't in group -1009999999999: add it again or fix the id (SUPPORT_GROUP_ID).",
		);
		const rejected = await doctor({ BOT_TOKEN: "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
		expect(rejected.code).toBe(1);
		expect(rejected.stdout).toContain(
			"✗ Telegram accepts the token — Telegram rejected this token: it is mistyped or was revoked.",
		);
		expect(rejected.stdout).not.toContain("AAAAAAAA");
		// A token of the wrong shape is refused with the rest of the configuration.
		const malformed = await doctor({ BOT_TOKEN: "not-a-token" });
		expect(malformed.code).toBe(1);
		expect(malformed.stderr).toContain("config error: BOT_TOKEN");
		const none = await runCommand(["doctor"], { DATA_DIR: tempDir("td-doctor-") });
		expect(none.code).toBe(1);
		expect(none.stderr).toContain("No bot is configured");
	}, 60_000);
});

describe("at startup and in /health/ready", () => {
	let db: TestDatabase;
	beforeAll(async () => {
		db = await freshDatabase();
	});
	afterAll(() => db.drop());

	async function start() {
		const logged: string[] = [];
		const loaded = loadConfig(testEnv({ db, double: tg }));
		if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
		const log = createLogger({ level: "info", json: true, write: (line) => logged.push(line) });
		const service = await startService(loaded.config, { pglite: db.pglite, log });
		return { service, logged };
	}

	async function readiness(url: string) {
		const response = await fetch(`${url}/health/ready`);
		type Checks = { bot: { ok: boolean; detail: string } };
		const body = (await response.json()) as {
			error?: { message: string };
			checks?: Checks;
			data?: { checks: Checks };
		};
		const checks = body.checks ?? body.data?.checks;
		if (!checks) throw new Error(`no checks in ${JSON.stringify(body)}`);
		return { status: response.status, body: { ...body, checks } };
	}

	test("a bot that cannot manage topics is named in the log and makes readiness 503", async () => {
		tg.setBotRights({ can_manage_topics: false });
		const { service, logged } = await start();
		try {
			const failed = await waitFor(() =>
				logged.map((line) => JSON.parse(line)).find((e) => e.event === "bot.check_failed"),
			);
			expect(failed.message).toBe(
				"bot check failed: ✗ @topicdesk_test_bot may manage topics — Edit @topicdesk_test_bot's admin rights and turn on Manage Topics.",
			);
			expect(failed.check).toBe("manage_topics");
			const ready = await readiness(service.url);
			expect(ready.status).toBe(503);
			expect(ready.body.checks.bot).toEqual({
				ok: false,
				detail: "cannot manage topics in Acme Support",
			});
			expect(ready.body.error?.message).toContain("bot (cannot manage topics in Acme Support)");
		} finally {
			await service.stop();
		}
	}, 30_000);

	test("a group without topics is named at startup; a good setup is ready and says so", async () => {
		tg.setForum(false);
		const bad = await start();
		try {
			const failed = await waitFor(() =>
				bad.logged.map((line) => JSON.parse(line)).find((e) => e.check === "forum"),
			);
			expect(failed.message).toContain("✗ Acme Support is a forum (Topics on)");
			expect((await readiness(bad.service.url)).body.checks.bot.detail).toBe(
				"topics are off in Acme Support",
			);
		} finally {
			await bad.service.stop();
			tg.setForum(true);
		}
		const good = await start();
		try {
			const passed = await waitFor(() =>
				good.logged.map((line) => JSON.parse(line)).find((e) => e.event === "bot.checks_passed"),
			);
			expect(passed).toMatchObject({ bot: "@topicdesk_test_bot", group: "Acme Support" });
			expect(good.logged.some((line) => line.includes("bot.check_failed"))).toBe(false);
			const ready = await readiness(good.service.url);
			expect(ready.status).toBe(200);
			expect(ready.body.checks.bot.ok).toBe(true);
		} finally {
			await good.service.stop();
		}
	}, 30_000);
});

async function waitFor<T>(find: () => T | undefined, timeoutMs = 5000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const found = find();
		if (found !== undefined) return found;
		if (Date.now() > deadline) throw new Error("not logged in time");
		await Bun.sleep(25);
	}
}
