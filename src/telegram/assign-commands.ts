/**
 * `/assign` and `/unassign` in a customer's topic. `/assign` as a reply to a colleague's message
 * gives them the ticket; `/assign @username` gives it to a known operator (one the desk has seen
 * in the group); `/unassign` leaves it to nobody. Whatever goes wrong is answered in the topic,
 * for operators only.
 */
import type { TelegramMessage } from "gramio";
import { assignTicket, unassignTicket } from "../core/assignment.ts";
import {
	knownUsernames,
	type Operator,
	operatorByUsername,
	operatorLabel,
} from "../core/operators.ts";
import type { Work } from "../core/unit-of-work.ts";
import { answerOperators, explicitReply, topicCustomer } from "./command-answer.ts";
import { operatorOf } from "./operator-identity.ts";
import type { RouterDeps } from "./router-deps.ts";

export const ASSIGN_COMMAND = /^\/(assign|unassign)(?:@\w+)?(?:\s+(.*))?$/is;

export async function answerAssign(
	work: Work,
	deps: RouterDeps,
	message: TelegramMessage,
	match: RegExpExecArray,
) {
	const customerId = await topicCustomer(work, deps, message);
	const say = (text: string) => answerOperators(work, deps, customerId, text);
	if (!customerId) return say(deps.texts.get("assignInTopic"));
	const actor = `operator:${message.from?.id ?? "?"}`;
	if (match[1]?.toLowerCase() === "unassign") {
		const had = await unassignTicket(work, customerId, actor);
		// The notice of the change is the answer; only "nothing to do" needs one of its own.
		if (!had) await say(deps.texts.get("unassignNone"));
		return;
	}
	const argument = match[2]?.trim() ?? "";
	const reply = explicitReply(message);
	let operator: Operator | null = null;
	if (argument) {
		operator = /^@?\w{1,64}$/.test(argument) ? await operatorByUsername(work, argument) : null;
		if (!operator) {
			const known = await knownUsernames(work);
			const username = argument.startsWith("@") ? argument : `@${argument}`;
			return say(
				deps.texts.get("assignUnknown", {
					username: username.slice(0, 70),
					known: known.length ? known.join(", ") : deps.texts.get("cardNone"),
				}),
			);
		}
	} else if (reply) {
		const person = reply.from;
		// The bot's own posts (cards, customers' copies) and anonymous admins are nobody to assign.
		if (!person || person.is_bot || reply.sender_chat)
			return say(deps.texts.get("assignNotOperator"));
		operator = operatorOf(person);
	} else return say(deps.texts.get("assignUsage"));
	const result = await assignTicket(work, customerId, operator, { by: "assign", actor });
	if (result?.outcome === "already")
		await say(deps.texts.get("assignSame", { operator: operatorLabel(result.operator) }));
}
