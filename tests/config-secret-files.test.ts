/**
 * Secrets from files (`<NAME>_FILE`), as Docker secrets and systemd credentials hand them over:
 * the file's content, trimmed, is the value; both set, an unreadable or an empty file stop the
 * start with a line naming the variable, and the secret never appears in any of those lines.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EnvSchema } from "../src/config/env.ts";
import { type Env, loadConfig } from "../src/config/index.ts";
import { runCommand } from "./ops/cli.ts";
import { tempDir } from "./support/process.ts";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const GROUP = "-1001234567890";

/** A valid value for each secret variable, and the config field it sets. */
const SECRETS: Record<string, { value: string; field: string; also?: Env }> = {
	BOT_TOKEN: { value: TOKEN, field: "botToken", also: { SUPPORT_GROUP_ID: GROUP } },
	APP_SECRET: { value: "an-application-secret-of-40-characters-x", field: "appSecret" },
	DATABASE_URL: {
		value: "postgres://topicdesk:pa55@db.internal:5432/desk",
		field: "databaseUrl",
		also: { APP_SECRET: "an-application-secret-of-40-characters-x" },
	},
	METRICS_TOKEN: { value: "metrics-token-0123456789", field: "metricsToken" },
	IDENTITY_SECRET: { value: "an-identity-secret-of-40-characters-xyz", field: "identitySecret" },
	TELEGRAM_WEBHOOK_SECRET: {
		value: "webhook_secret-0123456789abcdefABCDEF",
		field: "telegramWebhookSecret",
	},
};

/** The config fields the environment schema marks secret: exactly those may come from files. */
const secretFields = Object.entries(EnvSchema.properties)
	.filter(([, schema]) => (schema as { secret?: boolean }).secret)
	.map(([field]) => field);
const cases = Object.entries(SECRETS).filter(([, secret]) => secretFields.includes(secret.field));

/** Writes `content` to a fresh file and returns its path. */
function secretFile(content: string, mode = 0o600): string {
	const path = join(tempDir("td-secret-"), "secret");
	writeFileSync(path, content, { mode });
	chmodSync(path, mode);
	return path;
}

function errorsOf(env: Env): string[] {
	const result = loadConfig(env);
	if (result.ok) throw new Error("expected config errors, the config was accepted");
	return result.errors;
}

describe("<NAME>_FILE", () => {
	test("every secret of the environment has its case here", () => {
		const covered = new Set(cases.map(([, secret]) => secret.field));
		expect(secretFields.filter((field) => !covered.has(field))).toEqual([]);
		expect(covered.size).toBeGreaterThanOrEqual(5);
	});

	test.each(cases)("%s_FILE: the file's content, trimmed", (name, secret) => {
		const result = loadConfig({
			...secret.also,
			[`${name}_FILE`]: secretFile(`  ${secret.value}\n\n`),
		});
		if (!result.ok) throw new Error(result.errors.join("\n"));
		expect((result.config as Record<string, unknown>)[secret.field]).toBe(secret.value);
	});

	test.each(cases)("%s and %s_FILE both set: refused", (name, secret) => {
		const errors = errorsOf({
			...secret.also,
			[name]: secret.value,
			[`${name}_FILE`]: secretFile(secret.value),
		});
		expect(errors).toEqual([`${name}: set either ${name} or ${name}_FILE, not both`]);
	});

	test("a file that is not there, or a directory: the variable and the path, and why", () => {
		const dir = tempDir("td-secret-dir-");
		const missing = join(dir, "nope");
		mkdirSync(join(dir, "sub"));
		expect(errorsOf({ METRICS_TOKEN_FILE: missing, APP_SECRET_FILE: join(dir, "sub") })).toEqual([
			`APP_SECRET_FILE: cannot read "${join(dir, "sub")}" (it is a directory)`,
			`METRICS_TOKEN_FILE: cannot read "${missing}" (no such file)`,
		]);
	});

	test("an empty file (whitespace only) is an error, not an unset secret", () => {
		const path = secretFile(" \n");
		expect(errorsOf({ APP_SECRET_FILE: path })).toEqual([
			`APP_SECRET_FILE: the file "${path}" is empty`,
		]);
	});

	test("a bad value read from a file: named with its file, the value not shown", () => {
		const wrong = "not-a-token-but-a-secret-anyway";
		const errors = errorsOf({ BOT_TOKEN_FILE: secretFile(wrong), SUPPORT_GROUP_ID: GROUP });
		expect(errors).toEqual([
			`BOT_TOKEN (from BOT_TOKEN_FILE): must look like "123456789:AAH…": the bot id, a colon and the key, as BotFather gives it (got ${wrong.length} characters, value not shown)`,
		]);
	});

	test("an empty <NAME>_FILE= counts as unset, like an empty <NAME>=", () => {
		const result = loadConfig({ BOT_TOKEN_FILE: "", METRICS_TOKEN_FILE: " " });
		expect(result.ok && [result.config.botToken, result.config.metricsToken]).toEqual([
			undefined,
			undefined,
		]);
	});

	test("the cross-variable rules see the value from the file", () => {
		expect(errorsOf({ BOT_TOKEN_FILE: secretFile(TOKEN) })).toEqual([
			"SUPPORT_GROUP_ID: required when BOT_TOKEN is set",
		]);
	});

	test("the service refuses to start with both, saying so once and never printing the secret", async () => {
		const result = await runCommand(["serve"], {
			BOT_TOKEN: TOKEN,
			BOT_TOKEN_FILE: secretFile(TOKEN),
			SUPPORT_GROUP_ID: GROUP,
			DATA_DIR: tempDir("td-secret-data-"),
			PORT: "0",
		});
		expect(result.code).toBe(1);
		expect(result.stderr).toBe(
			"config error: BOT_TOKEN: set either BOT_TOKEN or BOT_TOKEN_FILE, not both\n",
		);
		expect(result.stdout).not.toContain("AAHdqTcv");
	}, 30_000);
});
