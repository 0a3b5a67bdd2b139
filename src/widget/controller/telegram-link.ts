/**
 * "Continue in Telegram": asks the service for a link to the bot that carries this conversation
 * over, and opens it. The tab is opened at once, inside the click, so popup blockers let it
 * through, and pointed at the link when it comes; a blocked tab gets a plain link instead.
 */
import { ApiError } from "../transport.ts";
import type { Alerts } from "./alerts.ts";
import type { Chat } from "./chat.ts";

export function linkTelegram(
	{ http, view }: Chat,
	alerts: Alerts,
	ensureSession: () => Promise<string>,
) {
	const tab = window.open("", "_blank");
	alerts.task(async () => {
		try {
			await ensureSession();
			const data = await http.call<{ telegramUrl: string }>("link-telegram", {});
			const url = new URL(data.telegramUrl);
			if (url.protocol !== "https:" && url.protocol !== "tg:") throw new ApiError("", "");
			if (tab) {
				tab.opener = null;
				tab.location.href = url.href;
			} else view.telegramFallback(url.href);
		} catch (e) {
			tab?.close();
			throw e;
		}
	});
}
