/**
 * English texts: the reference catalogue. Every user-visible string lives here (and in ru.ts with
 * the same keys); the config file may override any key per locale.
 */
export const en = {
	webPrefix: "[WEB] ",
	telegramPrefix: "[TG] ",
	topicNameWeb: "Web {session}",
} as const;

export type TextKey = keyof typeof en;
