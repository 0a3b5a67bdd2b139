/**
 * The bot checks as the running service uses them: once at start, with a clear log line per
 * failure, and behind `/health/ready`, cached so that probes do not turn into Bot API traffic.
 */
import type { Logger } from "../observability/logger.ts";
import { type CheckOptions, type CheckReport, formatResults, runBotChecks } from "./checks.ts";

export interface BotHealth {
	/** The latest report, refreshed when older than its time to live (short after a failure). */
	current(): Promise<CheckReport>;
	/** Runs the checks now and logs the outcome (startup). */
	checkAndLog(): Promise<CheckReport>;
}

export function createBotHealth(
	options: CheckOptions & { log: Logger; okTtlMs?: number; failedTtlMs?: number },
): BotHealth {
	const okTtl = options.okTtlMs ?? 60_000;
	const failedTtl = options.failedTtlMs ?? 5_000;
	let last: { at: number; report: CheckReport } | undefined;
	const checkOptions: CheckOptions = {
		...options,
		onCall: (method, result) =>
			options.log.debug("telegram call", { event: "telegram.call", method, result }),
	};
	let running: Promise<CheckReport> | undefined;
	const run = () => {
		running ??= runBotChecks(checkOptions)
			.then((report) => {
				last = { at: Date.now(), report };
				return report;
			})
			.finally(() => {
				running = undefined;
			});
		return running;
	};
	return {
		async current() {
			if (last && Date.now() - last.at < (last.report.ok ? okTtl : failedTtl)) return last.report;
			return run();
		},
		async checkAndLog() {
			const report = await run();
			const { log } = options;
			const lines = formatResults(report.results);
			report.results.forEach((result, n) => {
				if (!result.ok)
					log.error(`bot check failed: ${lines[n]}`, {
						event: "bot.check_failed",
						check: result.id,
					});
				else if (result.warning)
					log.warn(`bot check: ${lines[n]}`, { event: "bot.check_warning", check: result.id });
			});
			if (report.ok)
				log.info("bot checks passed", {
					event: "bot.checks_passed",
					bot: report.bot ? `@${report.bot.username}` : undefined,
					group: report.groupTitle,
				});
			return report;
		},
	};
}
