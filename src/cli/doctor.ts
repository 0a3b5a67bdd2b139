/**
 * `topicdesk doctor`: the bot checks against the configured bot and each support group, one line
 * each (✓, ✗ with how to fix it, ⚠ advice); exit 1 when any check fails.
 */
import type { Config } from "../config/index.ts";
import { holderOf } from "../runtime/data-dir.ts";
import { formatResults, GROUP_CHECKS, runBotChecks } from "../setup/checks.ts";
import type { Output } from "./output.ts";

export async function doctor(config: Config, io: Output) {
	if (!config.botToken || config.supportGroupId === undefined) {
		io.err(
			"✗ No bot is configured — set BOT_TOKEN and SUPPORT_GROUP_ID, or start the service without them and open the setup link it logs.",
		);
		return 1;
	}
	const report = await runBotChecks({
		apiRoot: config.telegramApiUrl,
		token: config.botToken,
		groupId: config.supportGroupId,
		...(config.telegramMode === "webhook" && config.telegramWebhookUrl
			? { webhookUrl: config.telegramWebhookUrl }
			: {}),
		// The getUpdates probe would cut a running instance's long poll; it runs only when we
		// know no instance polls: the embedded database's service is not running. With
		// PostgreSQL other instances may be polling, so it is skipped.
		probePolling: !config.databaseUrl && holderOf(config.dataDir) === undefined,
	});
	for (const line of formatResults(report.results)) io.out(line);
	let ok = report.ok;
	// Each further group: only the checks about a group (the bot's own passed or failed above).
	for (const groupId of config.supportGroupIds.slice(1)) {
		const more = await runBotChecks({
			apiRoot: config.telegramApiUrl,
			token: config.botToken,
			groupId,
		});
		const results = more.results.filter((result) => GROUP_CHECKS.has(result.id));
		for (const line of formatResults(results)) io.out(line);
		ok &&= results.every((result) => result.ok || result.warning);
	}
	io.out(ok ? "doctor: all checks passed" : "doctor: some checks failed");
	return ok ? 0 : 1;
}
