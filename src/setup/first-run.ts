/**
 * The first run of a service with no bot: the setup code issued (or the live one found), the
 * setup flow behind the database's gate, and, on PostgreSQL, a watch for a bot that another
 * instance's setup saved, so that every instance starts it without a restart (the polling lock
 * still lets only one of them poll).
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import { createSetupFlow, type SetupFlow } from "./flow.ts";
import {
	checkSetupCode,
	forgetCode,
	issueSetupCode,
	recallCode,
	rememberCode,
	saveWithCode,
} from "./setup-code.ts";
import { insertStoredBot, readStoredBot, type StoredBot } from "./stored-bot.ts";

export interface FirstRun {
	flow: SetupFlow;
	/** Logs the setup link once the web door listens (or, without the code, how to get one). */
	announce(publicUrl: string): void;
	/** Stops the flow's group finder and the watch. */
	stop(): Promise<void>;
}

export async function openFirstRun(options: {
	apiRoot: string;
	dataDir: string;
	database: Database;
	appSecret: string;
	log: Logger;
	/** Starts the saved bot, once, whether this instance saved it or another one. */
	onBot(bot: StoredBot): void;
	/** Pause between looks for a bot another instance saved. Default 2 s. */
	watchMs?: number;
}): Promise<FirstRun> {
	const { database, dataDir, appSecret, log } = options;
	const issued = await issueSetupCode(database);
	if (issued.code) {
		try {
			rememberCode(dataDir, issued.code);
		} catch (error) {
			log.warn("setup: could not write the setup code to DATA_DIR", {
				event: "setup.code_not_written",
				error: String(error),
			});
		}
	}
	const code = issued.code ?? recallCode(dataDir, issued.hash);
	let started = false;
	let watch: ReturnType<typeof setTimeout> | undefined;
	const adopt = (bot: StoredBot) => {
		if (started) return;
		started = true;
		clearTimeout(watch);
		forgetCode(dataDir);
		options.onBot(bot);
	};
	const flow = createSetupFlow({
		apiRoot: options.apiRoot,
		log,
		gate: {
			check: (presented) => checkSetupCode(database, presented),
			save: (bot, presented) =>
				saveWithCode(database, presented, (tx) => insertStoredBot(tx, appSecret, bot)),
		},
		onSaved: adopt,
	});
	const look = async () => {
		try {
			const stored = await readStoredBot(database, appSecret);
			if (stored.kind === "stored") {
				log.info("setup was completed on another instance: starting the saved bot", {
					event: "setup.stored_bot",
					groupId: stored.bot.groupId,
				});
				await flow.stop();
				adopt(stored.bot);
				return;
			}
			if (stored.kind === "unreadable") {
				log.error(
					"Another instance saved a bot whose token does not decrypt with this instance's APP_SECRET: every instance must share one APP_SECRET.",
					{ event: "setup.stored_bot_unreadable" },
				);
				return;
			}
		} catch (error) {
			log.debug("setup: looking for a saved bot failed", { error: String(error) });
		}
		if (!started) watch = setTimeout(look, options.watchMs ?? 2000);
	};
	// Embedded PGlite is one process: only this instance's own save can store a bot.
	if (database.kind === "postgres") watch = setTimeout(look, options.watchMs ?? 2000);
	return {
		flow,
		announce(publicUrl) {
			const until = issued.expiresAt.toISOString();
			if (code)
				log.warn(
					`Set up the bot (this link works until ${until}): open ${publicUrl}/setup?code=${code}`,
					{
						event: "setup.link",
					},
				);
			else
				log.warn(
					`Set up the bot with the setup link logged when its code was issued (by this or another instance; it works until ${until}). To issue a new code: delete from settings where key = 'setup.code'; then restart.`,
					{ event: "setup.link_elsewhere" },
				);
		},
		async stop() {
			started = true;
			clearTimeout(watch);
			await flow.stop();
		},
	};
}
