/**
 * `topicdesk doctor`: the bot checks against the configured bot and group, one line each
 * (✓, ✗ with how to fix it, ⚠ advice); exit 1 when any check fails.
 */
import type { Config } from "../config/index.ts";
import { holderOf } from "../runtime/data-dir.ts";
import { formatResults, runBotChecks } from "../setup/checks.ts";
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
	io.out(report.ok ? "doctor: all checks passed" : "doctor: some checks failed");
	return report.ok ? 0 : 1;
}
