/**
 * What the desk itself says to the customer: a system message in the web chat (stored, so it is
 * in history, and pushed to open sockets) and a text in the private chat, each only where the
 * customer actually is.
 */
import { eq } from "drizzle-orm";
import { customers, messages, webSessions } from "../db/schema.ts";
import type { TextKey } from "../i18n/en.ts";
import type { DmKeyboard } from "../outbox/items.ts";
import { toStored } from "./stored-message.ts";
import type { Work } from "./unit-of-work.ts";

export async function tellCustomer(
	work: Work,
	customerId: string,
	texts: { web?: TextKey; dm?: { text: TextKey; keyboard?: DmKeyboard }[] },
) {
	const [row] = await work.tx
		.select({ telegramUserId: customers.telegramUserId })
		.from(customers)
		.where(eq(customers.id, customerId));
	if (row?.telegramUserId != null)
		for (const dm of texts.dm ?? []) await work.enqueue(customerId, { kind: "dm_text", ...dm });
	if (!texts.web) return;
	const [web] = await work.tx
		.select({ id: webSessions.id })
		.from(webSessions)
		.where(eq(webSessions.customerId, customerId))
		.limit(1);
	if (web) await sayOnWeb(work, customerId, work.texts.get(texts.web));
}

/** A system message in the web chat: stored (so it is in history) and pushed to open sockets. */
export async function sayOnWeb(work: Work, customerId: string, text: string) {
	const [notice] = await work.tx
		.insert(messages)
		.values({ customerId, author: "system", channel: "web", text })
		.returning();
	if (notice) work.emit(customerId, { type: "message", message: toStored(notice) });
}
