/**
 * The command line of the binary and of `bun run src/index.ts`: a subcommand (default `serve`)
 * and its arguments. Every command reads the same validated configuration as the service.
 */
import { type Env, readConfigOrExit } from "../config/index.ts";
import { VERSION } from "../version.ts";
import { backup } from "./backup.ts";
import { doctor } from "./doctor.ts";
import { health } from "./health.ts";
import { migrate } from "./migrate.ts";
import { type Output, processOutput } from "./output.ts";
import { restore } from "./restore.ts";
import { serve } from "./serve.ts";

export const HELP = `topicdesk ${VERSION}: a customer-support desk in a Telegram forum

Usage: topicdesk [command]

Commands:
  serve            run the service (the default)
  migrate          apply database migrations and exit
  doctor           check the bot and the support group; exit 1 if anything is wrong
  health           ask the running service on PORT for /health/ready; exit 0 when ready
  backup <file>    write a consistent copy of the embedded database (also while it runs)
  restore <file>   replace the embedded database with a backup (the service must be stopped)
  version          print the version
  help, --help     print this help

Configuration comes from the environment (BOT_TOKEN, SUPPORT_GROUP_ID, DATA_DIR, DATABASE_URL,
…) and CONFIG_FILE, the same for every command. With DATABASE_URL, use pg_dump / pg_restore.`;

/**
 * Runs one command; resolves with the exit code, or with undefined for `serve`, which keeps
 * running until a signal stops it.
 *
 * @example process.exitCode = await runCli(["backup", "copy.tar.gz"], process.env)
 */
export async function runCli(
	argv: string[],
	env: Env,
	io: Output = processOutput,
): Promise<number | undefined> {
	const [command = "serve", ...args] = argv;
	switch (command) {
		case "help":
		case "--help":
		case "-h":
			io.out(HELP);
			return 0;
		case "version":
		case "--version":
			io.out(VERSION);
			return 0;
		case "serve":
			await serve(readConfigOrExit(env));
			return undefined;
		case "doctor":
			return doctor(readConfigOrExit(env), io);
		case "health":
			return health(readConfigOrExit(env), io);
		case "migrate":
			return migrate(readConfigOrExit(env), io);
		case "backup":
			return backup(readConfigOrExit(env), args[0], io);
		case "restore":
			return restore(readConfigOrExit(env), args[0], io);
		default:
			io.err(`topicdesk: unknown command "${command}"\n\n${HELP}`);
			return 2;
	}
}
