/**
 * Environment + config file → one typed, validated config. The only reader of process.env is the
 * composition root, which hands it to readConfigOrExit.
 */
import { readFileSync } from "node:fs";
import { type Env, readEnvironment } from "./env.ts";
import { type FileSettings, readConfigFile } from "./file.ts";

export type { Env } from "./env.ts";
export { parseDuration } from "./formats.ts";

type EnvSettings = Extract<ReturnType<typeof readEnvironment>, { ok: true }>["settings"];

/** The resolved configuration: defaults applied, durations in milliseconds. */
export type Config = EnvSettings & FileSettings;

export type LoadConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * Builds the config from an environment, the secrets' `<NAME>_FILE`s and the optional CONFIG_FILE
 * (files read through `readText`).
 * Every problem is reported, one line each naming the variable or the file key:
 * `PORT: must be an integer from 0 to 65535 (got "abc")`, `CONFIG_FILE ws.idle: must be …`.
 *
 * @example
 * const result = loadConfig({ PORT: "0", CONFIG_FILE: "timers.json" });
 * if (result.ok) result.config.timers.slaReminders; // [600000, 1800000, 7200000]
 */
export function loadConfig(
	env: Env,
	readText: (path: string) => string = (path) => readFileSync(path, "utf8"),
): LoadConfigResult {
	const fromEnv = readEnvironment(env, readText);
	const fromFile = readConfigFile(fromEnv.configFile, readText);
	if (fromEnv.ok && fromFile.ok) {
		const groups = fromEnv.settings.supportGroupIds;
		// Groups the setup page added are known only at run time: checked when SUPPORT_GROUP_ID is set.
		const strays = fromFile.settings.groupRoutes.flatMap(({ group }, index) =>
			groups.length > 0 && !groups.includes(group)
				? [
						`CONFIG_FILE groups.routes[${index}].group: must be one of SUPPORT_GROUP_ID (got ${group})`,
					]
				: [],
		);
		if (strays.length > 0) return { ok: false, errors: strays };
		return { ok: true, config: { ...fromEnv.settings, ...fromFile.settings } };
	}
	return {
		ok: false,
		errors: [...(fromEnv.ok ? [] : fromEnv.errors), ...(fromFile.ok ? [] : fromFile.errors)],
	};
}

/**
 * Loads the config for the composition root; on any problem prints each line to stderr as
 * `config error: <line>` and exits with status 1, since nothing can run on a broken config.
 *
 * @example const config = readConfigOrExit(process.env);
 */
export function readConfigOrExit(env: Env, readText?: (path: string) => string): Config {
	const result = loadConfig(env, readText);
	if (result.ok) return result.config;
	process.stderr.write(result.errors.map((line) => `config error: ${line}\n`).join(""));
	process.exit(1);
}
