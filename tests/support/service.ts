/**
 * Starts the real service in-process for a test: real listener on port 0, real database, the
 * Telegram double behind TELEGRAM_API_URL. Configuration goes through the same loadConfig as
 * production, including a config file for timers.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger, silentLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import type { TestDatabase } from "./db.ts";
import { tempDir } from "./process.ts";

/**
 * The APP_SECRET of tests on PostgreSQL, where the service requires one (instances sharing a
 * database share it); on PGlite the service generates its own into DATA_DIR.
 */
export const TEST_APP_SECRET = "test-app-secret-0123456789abcdefghijklmnop";

export interface DoubleLike {
	url: string;
	token: string;
	groupId: number;
}

export interface TestServiceOptions {
	db: TestDatabase;
	double?: DoubleLike;
	env?: Record<string, string>;
	configFile?: Record<string, unknown>;
}

export function writeConfigFile(content: Record<string, unknown>): string {
	const path = join(tempDir("topicdesk-config-"), "config.json");
	writeFileSync(path, JSON.stringify(content));
	return path;
}

export function testEnv(options: TestServiceOptions): Record<string, string> {
	const env: Record<string, string> = {
		PORT: "0",
		HOST: "127.0.0.1",
		NODE_ENV: "test",
		LOG_LEVEL: "error",
		DATA_DIR: tempDir("topicdesk-data-"),
	};
	if (options.db.url) {
		env.DATABASE_URL = options.db.url;
		env.APP_SECRET = TEST_APP_SECRET;
	}
	if (options.double) {
		env.BOT_TOKEN = options.double.token;
		env.SUPPORT_GROUP_ID = String(options.double.groupId);
		env.TELEGRAM_API_URL = options.double.url;
	}
	// Telegram's flood budgets would make every test wait; tests that exercise them set their own.
	const unthrottled = {
		groupPerMinute: 1_000_000,
		privatePerSecond: 1_000_000,
		globalPerSecond: 1_000_000,
	};
	const file = options.configFile ?? {};
	env.CONFIG_FILE = writeConfigFile({
		...file,
		outbox: { ...unthrottled, ...(file.outbox as Record<string, unknown> | undefined) },
	});
	return { ...env, ...options.env };
}

export async function startTestService(options: TestServiceOptions): Promise<RunningService> {
	const loaded = loadConfig(testEnv(options));
	if (!loaded.ok) throw new Error(`test config invalid:\n${loaded.errors.join("\n")}`);
	// TEST_LOG=debug shows the service's logs while debugging a test; silent otherwise.
	const level = process.env.TEST_LOG;
	const log =
		level === "debug" || level === "info" || level === "warn" || level === "error"
			? createLogger({ level, json: false })
			: silentLogger;
	return startService(loaded.config, { pglite: options.db.pglite, log });
}
