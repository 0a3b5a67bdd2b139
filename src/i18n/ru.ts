import type { TextKey } from "./en.ts";

/** Russian texts, same keys as the English catalogue. */
export const ru: Record<TextKey, string> = {
	webPrefix: "[WEB] ",
	telegramPrefix: "[TG] ",
	statusNEW: "🆕 Новое",
	statusIN_PROGRESS: "🛠 В работе",
	statusWAITING_CLIENT: "⏳ Ждём ответа клиента",
	statusCLOSED: "✅ Закрыто",
	noticeStatus: "Статус изменён: {status}",
	noticeClosed: "Обращение закрыто.",
	noticeReopened: "Клиент написал снова — обращение открыто заново.",
	noticeRated: "Клиент оценил поддержку на {rating} из 5.",
	noticeFeedback: "Отзыв клиента: {feedback}",
	botFallbackName: "Поддержка",
};
