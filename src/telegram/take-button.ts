import type { TelegramCallbackQuery } from "gramio";
import { assignTicket } from "../core/assignment.ts";
import { operatorLabel } from "../core/operators.ts";
import { customerOfTopic } from "../core/support-groups.ts";
import type { Work } from "../core/unit-of-work.ts";
import { operatorOf } from "./operator-identity.ts";
import type { AfterCommit, RouterDeps } from "./router-deps.ts";

export async function onTakeButton(
	work: Work,
	deps: RouterDeps,
	query: TelegramCallbackQuery,
	after: AfterCommit,
) {
	const answer = (text?: string) =>
		after.push(() =>
			deps.api.answerCallbackQuery({ callback_query_id: query.id, ...(text ? { text } : {}) }),
		);
	const card = query.message;
	const topicId = card && "message_thread_id" in card ? card.message_thread_id : undefined;
	// Anonymous admins press as GroupAnonymousBot: there is no person to give the ticket to.
	if (topicId === undefined || query.from.is_bot) return answer();
	const customerId = await customerOfTopic(work.tx, topicId, deps.groupKey);
	if (!customerId) return answer();
	const result = await assignTicket(work, customerId, operatorOf(query.from), {
		by: "take",
		actor: `operator:${query.from.id}`,
		onlyIfUnassigned: true,
	});
	if (!result) return answer();
	if (result.outcome === "taken")
		return answer(deps.texts.get("callbackTakenBy", { operator: operatorLabel(result.holder) }));
	answer(deps.texts.get(result.outcome === "already" ? "callbackAlreadyYours" : "callbackTaken"));
}
