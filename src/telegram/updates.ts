/**
 * Routes each Telegram update to the core, inside one transaction that also records the update
 * id (applied at most once in effect, SPEC §3.7).
 */
import type { TelegramMessage, TelegramUpdate } from "gramio";
import { editOperatorMessage, recordOperatorMessage } from "../core/operator-messages.ts";
import { type CoreDeps, commitUpdate } from "../core/unit-of-work.ts";

export interface UpdateRouterDeps {
	core: CoreDeps;
	groupId: number;
	botId: number;
}

/** Operator messages that stay in the topic: notes for colleagues, never sent to the customer. */
export function isInternalNote(text: string): boolean {
	const trimmed = text.trimStart();
	return trimmed.startsWith("//") || trimmed.toLowerCase().startsWith("#internal");
}

function isOperatorTopicMessage(message: TelegramMessage, deps: UpdateRouterDeps): boolean {
	if (message.chat.id !== deps.groupId) return false;
	if (!message.is_topic_message || message.message_thread_id === undefined) return false;
	if (message.from?.id === deps.botId) return false;
	// Service messages (topic created, pinned, …) carry no text or media for the customer.
	return message.text !== undefined || message.caption !== undefined;
}

export function createUpdateRouter(deps: UpdateRouterDeps) {
	return async (update: TelegramUpdate): Promise<void> => {
		await commitUpdate(deps.core, update.update_id, async (work) => {
			const message = update.message;
			if (message && isOperatorTopicMessage(message, deps)) {
				const text = message.text ?? message.caption ?? "";
				if (isInternalNote(text)) return;
				await recordOperatorMessage(work, {
					topicId: message.message_thread_id as number,
					groupId: deps.groupId,
					telegramMessageId: message.message_id,
					text,
				});
			}
			const edited = update.edited_message;
			if (edited && isOperatorTopicMessage(edited, deps)) {
				await editOperatorMessage(work, {
					groupId: deps.groupId,
					telegramMessageId: edited.message_id,
					text: edited.text ?? edited.caption ?? "",
				});
			}
		});
	};
}
