/**
 * A web visitor's text message, from a WebSocket frame or `POST /api/chat/message` alike: stored
 * with the daily conversation quota checked in the same statement when it may open a
 * conversation, so a new customer's first message costs one round trip, not two.
 */
import { type Accepted, acceptCustomerMessage } from "../core/messages.ts";
import type { WebDeps } from "./deps.ts";
import { webQuotas } from "./quota.ts";

export interface WebText {
	text: string;
	clientMessageId?: string;
	replyTo?: string;
}

export async function acceptWebText(
	deps: Pick<WebDeps, "core" | "config">,
	customerId: string,
	message: WebText,
): Promise<Accepted> {
	const quotas = webQuotas(deps);
	const accepted = await acceptCustomerMessage(deps.core, {
		customerId,
		channel: "web",
		...message,
		openingLimit: quotas.openingLimit(customerId),
	});
	quotas.started(customerId);
	return accepted;
}
