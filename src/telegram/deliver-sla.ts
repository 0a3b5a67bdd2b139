/**
 * Outbox handler `sla_reminder`: an internal notice in the topic mentioning the ticket's assignee,
 * else the group's human admins; the breach (the last reminder) also sends them the topic link.
 */
import { eq, sql } from "drizzle-orm";
import { format, join, mention, type TelegramUser } from "gramio";
import { customers, operators } from "../db/schema.ts";
import type { OutboxHandler } from "../outbox/delivery.ts";
import { classifyFailure } from "./bot-api.ts";
import { shortDuration } from "./display-time.ts";
import { sendToTopic, type TopicDeps, topicLink } from "./topics.ts";

/**
 * The assignee the core named when the reminder fell due, as the desk last saw them; else (or
 * when the desk has no such operator) the group's human admins, as Telegram lists them now.
 */
async function whoToRemind(deps: TopicDeps, assignee: number): Promise<TelegramUser[]> {
	if (Number.isInteger(assignee) && assignee > 0) {
		const [operator] = await deps.database.db
			.select()
			.from(operators)
			.where(eq(operators.telegramUserId, assignee));
		if (operator)
			return [
				{
					id: operator.telegramUserId,
					is_bot: false,
					first_name: operator.name,
					...(operator.username ? { username: operator.username } : {}),
				},
			];
	}
	return (await deps.api.getChatAdministrators({ chat_id: deps.groupId }))
		.map((member) => member.user)
		.filter((user) => !user.is_bot);
}

export function slaReminderHandler(deps: TopicDeps): OutboxHandler {
	/**
	 * Progress of a breach is kept on the item itself (`topicSent`, `adminsDone`), so a retry
	 * after one admin's DM failed sends only what is still owed: never the topic reminder again,
	 * never a DM already sent.
	 */
	const remember = (id: number, progress: Record<string, unknown>) =>
		deps.database.db.execute(
			sql`update outbox set payload = payload || ${JSON.stringify(progress)}::jsonb where id = ${id}`,
		);
	return async ({ item }) => {
		const [customer] = await deps.database.db
			.select({ topicId: customers.topicId, status: customers.status })
			.from(customers)
			.where(eq(customers.id, item.customerId));
		if (customer?.topicId == null || customer.status === "CLOSED") return;
		const people = await whoToRemind(deps, Number(item.payload.assignee));
		const mentions = join(
			people,
			(user) => (user.username ? `@${user.username}` : mention(user.first_name, user)),
			" ",
		);
		const waited = shortDuration(Number(item.payload.waitedMs));
		const breach = item.payload.breach === true;
		const [before = "", after = ""] = deps.texts
			.get(breach ? "noticeSlaBreach" : "noticeSlaReminder", { waited })
			.split("{admins}");
		const sentTopic = Number(item.payload.topicSent);
		const topicId =
			Number.isInteger(sentTopic) && sentTopic > 0
				? sentTopic
				: await sendToTopic(deps, item.customerId, async (topic) => {
						await deps.api.sendMessage({
							chat_id: deps.groupId,
							message_thread_id: topic,
							text: format`${before}${mentions}${after}`,
						});
						return topic;
					});
		if (!breach) return;
		if (!sentTopic) await remember(item.id, { topicSent: topicId });
		const text = deps.texts.get("adminSlaBreach", {
			waited,
			topicLink: topicLink(deps.groupId, topicId),
		});
		const done = new Set(
			Array.isArray(item.payload.adminsDone) ? (item.payload.adminsDone as number[]) : [],
		);
		let failed: unknown;
		for (const admin of people) {
			if (done.has(admin.id)) continue;
			try {
				await deps.api.sendMessage({ chat_id: admin.id, text });
			} catch (error) {
				// An admin who never opened the bot cannot be written to; the topic notice stands.
				// Anything else is retried later, for this admin only; the others still get theirs.
				if (classifyFailure(error).kind !== "permanent") {
					failed ??= error;
					continue;
				}
			}
			done.add(admin.id);
			await remember(item.id, { adminsDone: [...done] });
		}
		if (failed) throw failed;
	};
}
