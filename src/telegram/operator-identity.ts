/** Who an operator is, from what Telegram shows of the person who wrote or pressed. */
import type { TelegramMessage, TelegramUser } from "gramio";
import type { Operator } from "../core/operators.ts";

/** An operator as the desk keeps them. */
export function operatorOf(user: TelegramUser): Operator {
	return {
		telegramUserId: user.id,
		name: [user.first_name, user.last_name].filter(Boolean).join(" "),
		username: user.username ?? null,
	};
}

/** The operator as the group shows them: an anonymous admin posts as the group itself. */
export function operatorName(message: TelegramMessage): string | undefined {
	if (message.sender_chat?.title) return message.sender_chat.title;
	return message.from ? operatorOf(message.from).name : undefined;
}
