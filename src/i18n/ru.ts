import type { TextKey } from "./en.ts";

/** Russian texts, same keys as the English catalogue. */
export const ru: Record<TextKey, string> = {
	webPrefix: "[WEB] ",
	telegramPrefix: "[TG] ",
	topicNameWeb: "Веб {session}",
};
