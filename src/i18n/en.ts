/**
 * English texts: the reference catalogue. Every user-visible string lives here (and in ru.ts with
 * the same keys); the config file may override any key per locale.
 */
export const en = {
	webPrefix: "[WEB] ",
	telegramPrefix: "[TG] ",
	statusNEW: "🆕 New",
	statusIN_PROGRESS: "🛠 In progress",
	statusWAITING_CLIENT: "⏳ Waiting for the customer",
	statusCLOSED: "✅ Closed",
	noticeStatus: "Status changed: {status}",
	noticeClosed: "The ticket is closed.",
	noticeReopened: "The customer wrote again: the ticket is reopened.",
	noticeRated: "The customer rated the support {rating}/5.",
	noticeFeedback: "Customer feedback: {feedback}",
	botFallbackName: "Support",
} as const;

export type TextKey = keyof typeof en;
