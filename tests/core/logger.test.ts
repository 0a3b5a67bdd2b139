import { expect, test } from "bun:test";
import { createLogger } from "../../src/observability/logger.ts";

test("the bot token and app secret never reach a log line, whatever is logged", () => {
	const lines: string[] = [];
	const token = "123456:AAH-very-secret-token";
	const log = createLogger({
		level: "debug",
		json: true,
		secrets: [token, "app-secret-value-xyz"],
		write: (l) => lines.push(l),
	});
	log.error("call failed", {
		url: `https://api.example/bot${token}/sendMessage`,
		note: "app-secret-value-xyz",
	});
	log.info(`fetching /file/bot${token}/photo.jpg`);
	expect(lines).toHaveLength(2);
	for (const line of lines) {
		expect(line).not.toContain(token);
		expect(line).not.toContain("app-secret-value-xyz");
		expect(line).toContain("[redacted]");
	}
});
