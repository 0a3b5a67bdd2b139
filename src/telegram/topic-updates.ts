/**
 * Operators in a customer's topic: their messages and edits go to every channel of
 * the customer, internal notes stay, and /history and /help answer in the topic.
 */
import type { TelegramMessage } from "gramio";
import { editOperatorMessage, recordOperatorMessage } from "../core/operator-messages.ts";
import { customerOfTopic } from "../core/support-groups.ts";
import { lastEvents, type TicketEvent } from "../core/ticket-history.ts";
import type { Work } from "../core/unit-of-work.ts";
import type { TextKey } from "../i18n/en.ts";
import type { Texts } from "../i18n/texts.ts";
import { retryDead } from "../outbox/admin.ts";
import { ASSIGN_COMMAND, answerAssign } from "./assign-commands.ts";
import { answerCanned, CANNED_COMMAND } from "./canned-command.ts";
import { explicitReply } from "./command-answer.ts";
import { displayTime } from "./display-time.ts";
import { answerGroupRetry, answerMove, MOVE_COMMAND, RETRY_COMMAND } from "./group-commands.ts";
import { mediaOf, textOf } from "./incoming.ts";
import { isInternalNote } from "./internal-notes.ts";
import { operatorName } from "./operator-identity.ts";
import type { RouterDeps } from "./router-deps.ts";
import { answerStats, STATS_COMMAND } from "./stats-command.ts";

/**
 * A message a human member wrote in a topic of the support group: not the bot's own, not another
 * bot's, but an anonymous admin posting as the group counts (GroupAnonymousBot + sender_chat).
 */
export function isOperatorTopicMessage(
	message: TelegramMessage,
	deps: Pick<RouterDeps, "groupId" | "botId">,
) {
	if (message.chat.id !== deps.groupId) return false;
	if (!message.is_topic_message || message.message_thread_id === undefined) return false;
	const from = message.from;
	if (!from || from.id === deps.botId) return false;
	if (message.sender_chat && message.sender_chat.id !== deps.groupId) return false;
	if (from.is_bot && message.sender_chat?.id !== deps.groupId) return false;
	// Service messages (topic created, pinned, …) carry nothing for the customer.
	return Boolean(textOf(message) || mediaOf(message) || message.location || message.contact);
}

/** A command a person wrote in the support group, in any topic or the General one. */
function isOperatorGroupCommand(
	message: TelegramMessage,
	deps: Pick<RouterDeps, "groupId" | "botId">,
) {
	const from = message.from;
	return (
		message.chat.id === deps.groupId &&
		Boolean(from) &&
		from?.id !== deps.botId &&
		(message.text ?? "").startsWith("/")
	);
}

const COMMAND = /^\/(history|help|retry)(?:@\w+)?(?:\s|$)/i;

/** A bot command: `/` and a letter (`//` starts an internal note instead). */
const isCommand = (message: TelegramMessage) => /^\/[a-z]/i.test(message.text ?? "");

function describeEvent(texts: Texts, event: TicketEvent, timeZone: string): string {
	const details = (event.details ?? {}) as Record<string, string | number>;
	const status = event.toStatus ? texts.get(`status${event.toStatus}` as TextKey) : "";
	const what = texts.get(`event${event.kind}` as TextKey, { ...details, status });
	const actor = event.actor.startsWith("operator")
		? texts.get("actorOperator")
		: event.actor.startsWith("customer")
			? texts.get("actorCustomer")
			: texts.get("actorSystem");
	return texts.get("historyLine", {
		time: displayTime(event.createdAt, timeZone),
		event: what,
		actor,
	});
}

async function answerCommand(work: Work, deps: RouterDeps, command: string, topicId: number) {
	const customerId = await customerOfTopic(work.tx, topicId, deps.groupKey);
	if (!customerId) return;
	let text = deps.texts.get("helpText");
	if (command === "retry")
		text = deps.texts.get("retryDone", { count: await retryDead(work, customerId) });
	if (command === "history") {
		const events = await lastEvents(work, customerId, 20);
		text = events.length
			? [
					deps.texts.get("historyTitle", { count: events.length, zone: deps.timeZone }),
					...events.map((event) => describeEvent(deps.texts, event, deps.timeZone)),
				].join("\n")
			: deps.texts.get("historyEmpty");
	}
	await work.enqueue(customerId, { kind: "topic_text", text });
}

/** Commands that work in any topic of the group, the General one included. */
async function groupCommand(work: Work, deps: RouterDeps, message: TelegramMessage) {
	const text = message.text ?? "";
	if (STATS_COMMAND.test(text)) return answerStats(work, deps, message);
	const canned = CANNED_COMMAND.exec(text);
	if (canned) return answerCanned(work, deps, message, canned);
	const assign = ASSIGN_COMMAND.exec(text);
	if (assign) return answerAssign(work, deps, message, assign);
	return NOT_A_GROUP_COMMAND;
}

const NOT_A_GROUP_COMMAND = Symbol("not a group command");

export async function onTopicMessage(work: Work, deps: RouterDeps, message: TelegramMessage) {
	if (
		isOperatorGroupCommand(message, deps) &&
		(await groupCommand(work, deps, message)) !== NOT_A_GROUP_COMMAND
	)
		return;
	const general = !message.is_topic_message;
	if (general && isOperatorGroupCommand(message, deps) && RETRY_COMMAND.test(message.text ?? ""))
		return answerGroupRetry(work, deps);
	if (!isOperatorTopicMessage(message, deps)) return;
	if (MOVE_COMMAND.test(message.text ?? "")) return answerMove(work, deps, message);
	const topicId = message.message_thread_id as number;
	const text = textOf(message);
	const command = COMMAND.exec(message.text ?? "");
	if (command?.[1]) return answerCommand(work, deps, command[1].toLowerCase(), topicId);
	if (isInternalNote(text)) return;
	// A command is never relayed to the customer: one the desk does not know gets the list.
	if (isCommand(message)) return answerCommand(work, deps, "help", topicId);
	await recordOperatorMessage(work, {
		topicId,
		groupId: deps.groupId,
		groupKey: deps.groupKey,
		telegramMessageId: message.message_id,
		text,
		entities: message.entities ?? message.caption_entities,
		media: mediaOf(message),
		replyToTelegramMessageId: explicitReply(message)?.message_id,
		operatorId: message.from?.id,
		operatorName: operatorName(message),
		operatorUsername: message.from?.username,
		anonymous: Boolean(message.sender_chat),
	});
}

export async function onTopicEdit(work: Work, deps: RouterDeps, message: TelegramMessage) {
	// A command edited is still a command: never a text for the customer.
	if (!isOperatorTopicMessage(message, deps) || isCommand(message)) return;
	await editOperatorMessage(work, {
		groupId: deps.groupId,
		telegramMessageId: message.message_id,
		text: textOf(message),
	});
}
