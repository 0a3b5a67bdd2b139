/**
 * The launcher's texts, en and ru: all the loader needs to paint it, kept apart from the other
 * texts so the loader does not carry them. `texts.ts` includes them in every locale's set.
 */
export const launcherTexts = {
	en: { launcher: "Chat with us", unread: ", {n} unread" },
	ru: { launcher: "Написать нам", unread: ", {n} непрочитанных" },
};

export type LauncherLocale = keyof typeof launcherTexts;
export type LauncherTexts = (typeof launcherTexts)["en"];
