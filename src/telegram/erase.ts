/**
 * `/erase` in a customer's topic: the bot asks for confirmation with two buttons;
 * "Erase all data", pressed by a member of the support group, erases the customer
 * (core/erasure.ts). A press by anyone else, from another chat or with forged data changes
 * nothing. Checked ahead of the update router, in the same applied-once transaction per update.
 */

import type { TelegramCallbackQuery, TelegramMessage, TelegramUpdate } from "gramio";
import { eraseCustomer, scrubErasure } from "../core/erasure.ts";
import { customerOfTopic } from "../core/support-groups.ts";
import { ALREADY_APPLIED, type CoreDeps, commitUpdate } from "../core/unit-of-work.ts";
import type { Texts } from "../i18n/texts.ts";
import type { Logger } from "../observability/logger.ts";
import type { BotApi } from "./bot-api.ts";
import { isOperatorTopicMessage } from "./topic-updates.ts";
import { type GroupScoped, scopedToChat } from "./update-group.ts";

const COMMAND = /^\/erase(?:@\w+)?\s*$/i;
const CALLBACK = /^erase:(yes|no):([0-9a-f-]{36})$/;
const MEMBER_STATUSES = new Set(["creator", "administrator", "member"]);

export interface EraseDeps extends GroupScoped {
	core: CoreDeps;
	api: BotApi;
	botId: number;
	texts: Texts;
	log: Logger;
}

/** Returns a handler that takes `/erase` updates and answers whether it took this one. */
export function createEraseHandler(shared: EraseDeps) {
	return async (update: TelegramUpdate): Promise<boolean> => {
		const message = update.message;
		const chat = message?.chat.id ?? update.callback_query?.message?.chat.id;
		const deps = scopedToChat(shared, chat);
		if (message && COMMAND.test(message.text ?? "") && isOperatorTopicMessage(message, deps)) {
			await askConfirmation(deps, update.update_id, message);
			return true;
		}
		const query = update.callback_query;
		const match = CALLBACK.exec(query?.data ?? "");
		if (query && match?.[1] && match[2]) {
			await onPress(deps, update.update_id, query, match[1] === "yes", match[2]);
			return true;
		}
		return false;
	};
}

async function customerIn(deps: EraseDeps, topicId: number | undefined) {
	if (topicId === undefined) return undefined;
	return (await customerOfTopic(deps.core.database.db, topicId, deps.groupKey)) ?? undefined;
}

async function askConfirmation(deps: EraseDeps, updateId: number, message: TelegramMessage) {
	const topicId = message.message_thread_id;
	const customerId = await customerIn(deps, topicId);
	const applied = await commitUpdate(deps.core, updateId, async () => undefined);
	if (applied === ALREADY_APPLIED || !customerId) return;
	// Ephemeral like a toast: if it is lost, the operator sends /erase again.
	await deps.api.sendMessage({
		chat_id: deps.groupId,
		message_thread_id: topicId,
		text: deps.texts.get("eraseConfirm"),
		reply_markup: {
			inline_keyboard: [
				[
					{ text: deps.texts.get("eraseYesButton"), callback_data: `erase:yes:${customerId}` },
					{ text: deps.texts.get("eraseNoButton"), callback_data: `erase:no:${customerId}` },
				],
			],
		},
	});
}

/** A member of the support group (creator, administrator or member), asked of Telegram. */
async function isGroupMember(deps: EraseDeps, userId: number): Promise<boolean> {
	try {
		const member = await deps.api.getChatMember({ chat_id: deps.groupId, user_id: userId });
		return (
			MEMBER_STATUSES.has(member.status) ||
			(member.status === "restricted" && "is_member" in member && member.is_member === true)
		);
	} catch {
		return false;
	}
}

async function onPress(
	deps: EraseDeps,
	updateId: number,
	query: TelegramCallbackQuery,
	erase: boolean,
	customerId: string,
) {
	const message = query.message;
	const inGroup = message?.chat.id === deps.groupId;
	const topicId = message && "message_thread_id" in message ? message.message_thread_id : undefined;
	// The button must sit in that customer's own topic, and the presser be one of the group.
	const allowed =
		inGroup &&
		(await customerIn(deps, topicId)) === customerId &&
		(await isGroupMember(deps, query.from.id));
	const answer = (text: string, alert = false) =>
		deps.api
			.answerCallbackQuery({ callback_query_id: query.id, text, show_alert: alert })
			.catch(() => undefined);
	const replaceConfirmation = (text: string) =>
		message
			? deps.api
					.editMessageText({ chat_id: deps.groupId, message_id: message.message_id, text })
					.catch(() => undefined)
			: undefined;
	if (!allowed) {
		const applied = await commitUpdate(deps.core, updateId, async () => undefined);
		if (applied === ALREADY_APPLIED) return;
		deps.log.warn("erasure refused", { event: "customer.erase_refused", customerId });
		await answer(deps.texts.get("eraseRefused"), true);
		return;
	}
	if (!erase) {
		const applied = await commitUpdate(deps.core, updateId, async () => undefined);
		if (applied === ALREADY_APPLIED) return;
		await replaceConfirmation(deps.texts.get("eraseCancelled"));
		await answer(deps.texts.get("eraseCancelled"));
		return;
	}
	const result = await commitUpdate(deps.core, updateId, (work) =>
		eraseCustomer(work, customerId, `operator:${query.from.id}`),
	);
	if (result === ALREADY_APPLIED || !result) return;
	// Counts and the opaque customer id only: nothing that identifies the person.
	deps.log.info("customer erased", { event: "customer.erased", customerId, ...result });
	// The press is answered now: clearing the files may take as long as rewriting the tables.
	await answer(deps.texts.get("eraseScrubbing"));
	// "Erased" only once the deleted rows' bytes are gone from the database's files too.
	const scrub = await scrubErasure(deps.core.database);
	if (scrub.complete) {
		deps.log.info("erased data cleared from the database files", {
			event: "customer.erase_scrubbed",
			customerId,
		});
		if (scrub.notes.length > 0)
			deps.log.warn("the database role could not do all of the erasure's upkeep", {
				event: "customer.erase_scrub_notes",
				notes: scrub.notes,
			});
		await replaceConfirmation(deps.texts.get("eraseDone"));
		return;
	}
	deps.log.error("erased rows' bytes may remain in the database files", {
		event: "customer.erase_scrub_failed",
		customerId,
		problems: scrub.problems,
		notes: scrub.notes,
	});
	await replaceConfirmation(deps.texts.get("eraseScrubFailed"));
}
