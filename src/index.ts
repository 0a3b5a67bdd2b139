/**
 * The entry point: the only module with side effects at import. Hands the command line and the
 * environment to the CLI (src/cli/main.ts); `serve`, the default, runs the service until a signal.
 */
import { runCli } from "./cli/main.ts";

// Everything topicdesk writes (the embedded database, the generated app secret, the setup code,
// backups) is the owner's alone, whatever the umask of the shell or container that started it.
process.umask(0o077);

const code = await runCli(process.argv.slice(2), process.env);
if (code !== undefined) process.exit(code);
