/**
 * "Continue in Telegram": asks the service for a link to the bot that carries this conversation
 * over, and opens it. The tab is opened at once, inside the click, so popup blockers let it
 * through, and pointed at the link when it comes; when the browser gave no tab, a plain link
 * is shown instead.
 */
import { ApiError } from "../transport.ts";
import type { Chat } from "./chat.ts";
import { ensureSession, task } from "./session.ts";

export function linkTelegram(c: Chat) {
	const tab = window.open("", "_blank");
	task(c, async () => {
		try {
			await ensureSession(c);
			const data = await c.http.call<{ telegramUrl: string }>("link-telegram", {});
			const url = new URL(data.telegramUrl);
			if (url.protocol !== "https:" && url.protocol !== "tg:") throw new ApiError("", "");
			if (tab) {
				tab.opener = null;
				tab.location.href = url.href;
			} else c.view.telegramFallback(url.href);
		} catch (e) {
			tab?.close();
			throw e;
		}
	});
}
