/**
 * The service under test as a child process (`bun run src/index.ts`), so the load generator and
 * the service do not share a JavaScript thread. Configuration goes through the environment and a
 * config file, as in production.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
	type ChildService,
	spawnService,
	startScriptEnvironment,
	tempDir,
} from "../../tests/support/process.ts";
import { writeConfigFile } from "../../tests/support/service.ts";
import type { TelegramDouble } from "../../tests/support/telegram-double.ts";
import { startTelegramDouble } from "../../tests/support/telegram-double.ts";
import { createBenchDatabase } from "./database.ts";
import { describeMachine } from "./machine.ts";
import { cpuSeconds, rssKb } from "./proc.ts";

/** Where the service's code is: this checkout, or BENCH_SERVICE_DIR (e.g. a scratch copy). */
export const serviceDir = resolve(process.env.BENCH_SERVICE_DIR ?? `${import.meta.dir}/../..`);

/** Per-minute limits high enough that a benchmark never meets them. */
export const UNLIMITED = { init: 1_000_000, message: 1_000_000, read: 1_000_000 };
/** Daily per-IP quotas far above a benchmark's customers, who all come from 127.0.0.1. */
export const UNLIMITED_QUOTAS = {
	sessionsPerIpPerDay: 100_000_000,
	topicsPerIpPerDay: 100_000_000,
};

export interface BenchServiceOptions {
	databaseUrl: string;
	/** The Bot API double the service talks to; without it the bot is disabled. */
	double?: TelegramDouble;
	/** Config file contents, without `rateLimits` (added when the service supports the key). */
	config: Record<string, unknown>;
	/** More environment, e.g. SUPPORT_GROUP_ID with several groups. */
	env?: Record<string, string>;
}

export interface BenchService {
	url: string;
	pid: number;
	/** False when this version of the service rejected `rateLimits`: then every client must
	 * present its own X-Forwarded-For (TRUST_PROXY is on) to stay under the per-IP init limit. */
	rateLimitsApplied: boolean;
	rssKb(): number;
	/**
	 * RSS after two forced full collections (SIGUSR2 with TOPICDESK_GC_ON_SIGUSR2=1), or plain RSS
	 * (`gc: false`) when the service's code has no such hook (an older BENCH_SERVICE_DIR), whose
	 * default action for SIGUSR2 would end it.
	 */
	rssAfterGcKb(): Promise<{ kb: number; gc: boolean }>;
	cpuSeconds(): number;
	output(): string;
	stop(): Promise<void>;
}

function environment(options: BenchServiceOptions, config: Record<string, unknown>) {
	const env: Record<string, string> = {
		NODE_ENV: "production",
		LOG_LEVEL: "warn",
		DATABASE_URL: options.databaseUrl,
		// Required with DATABASE_URL; any value of 32+ characters serves a benchmark.
		APP_SECRET: "bench-app-secret-0123456789abcdefghijklmnop",
		DATA_DIR: tempDir("topicdesk-bench-data-"),
		TRUST_PROXY: "true",
		// The service collects its garbage fully on SIGUSR2 (memory per socket after a forced GC).
		TOPICDESK_GC_ON_SIGUSR2: "1",
		CONFIG_FILE: writeConfigFile(config),
	};
	if (options.double) {
		env.BOT_TOKEN = options.double.token;
		env.SUPPORT_GROUP_ID = String(options.double.groupId);
		env.TELEGRAM_API_URL = options.double.url;
	}
	Object.assign(env, options.env);
	// The service runs as `bun start` runs it: the runtime's settings its start script sets.
	Object.assign(env, startScriptEnvironment(serviceDir));
	// The runtime's own tuning (allocator, JavaScript engine) reaches the service as given.
	for (const [key, value] of Object.entries(process.env))
		if (value !== undefined && /^(MIMALLOC|BUN|JSC)_/.test(key)) env[key] = value;
	return env;
}

/** BENCH_PROFILE_DIR=<dir>: the service writes a CPU profile (also as Markdown) there on exit. */
function command(): string[] {
	const dir = process.env.BENCH_PROFILE_DIR;
	const profile = dir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${resolve(dir)}`] : [];
	return ["bun", ...profile, "run", "src/index.ts"];
}

/** Whether the service's code answers SIGUSR2 with a full collection. */
const gcHook = (() => {
	try {
		return readFileSync(`${serviceDir}/src/cli/serve.ts`, "utf8").includes(
			"TOPICDESK_GC_ON_SIGUSR2",
		);
	} catch {
		return false;
	}
})();

export async function startBenchService(options: BenchServiceOptions): Promise<BenchService> {
	const spawn = (config: Record<string, unknown>) =>
		spawnService(command(), environment(options, config), {
			cwd: serviceDir,
			readyPath: "/health/ready",
			timeoutMs: 60_000,
		});
	let child: ChildService;
	let rateLimitsApplied = true;
	try {
		child = await spawn({ ...options.config, rateLimits: UNLIMITED, quotas: UNLIMITED_QUOTAS });
	} catch (error) {
		if (!String(error).includes("rateLimits")) throw error;
		rateLimitsApplied = false;
		child = await spawn(options.config);
	}
	const pid = child.proc.pid;
	return {
		url: child.url,
		pid,
		rateLimitsApplied,
		rssKb: () => rssKb(pid),
		async rssAfterGcKb() {
			if (!gcHook) return { kb: rssKb(pid), gc: false };
			process.kill(pid, "SIGUSR2");
			await Bun.sleep(1_000);
			process.kill(pid, "SIGUSR2");
			await Bun.sleep(1_000);
			return { kb: rssKb(pid), gc: true };
		},
		cpuSeconds: () => cpuSeconds(pid),
		output: child.output,
		async stop() {
			const { code } = await child.stop("SIGTERM");
			if (code !== 0) console.warn(`service exited with ${code}:\n${child.output().slice(-2000)}`);
		},
	};
}

/** A throwaway database, the Bot API double and the service on them, with the machine described. */
export async function startBenchStack(config: Record<string, unknown>) {
	const db = await createBenchDatabase();
	const machine = describeMachine(serviceDir, db.version);
	const double = startTelegramDouble();
	const service = await startBenchService({ databaseUrl: db.url, double, config }).catch(
		async (error) => {
			await double.close();
			await db.drop();
			throw error;
		},
	);
	/** Stops the service, then closes the double and drops the database: every bench's last step. */
	const stop = async () => {
		await service.stop();
		await double.close();
		await db.drop();
	};
	return { db, machine, double, service, stop };
}

/** The benches' config: no pings or idle cut-off, and Telegram's budgets out of the way. */
export const UNTHROTTLED_CONFIG = {
	ws: { ping: "10m", idle: "30m" },
	outbox: { groupPerMinute: 1_000_000, privatePerSecond: 1_000_000, globalPerSecond: 1_000_000 },
};
