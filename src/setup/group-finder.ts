/**
 * The setup page's poller: long-polls getUpdates with the pasted token and keeps the groups the
 * bot was added to (`my_chat_member`), so nobody has to type a group id. It sends the full list
 * of update types the service needs: Telegram keeps the last `allowed_updates` across calls and
 * restarts, so a shorter list here would leave the running desk deaf to the rest. Confirming an
 * offset confirms every update below it, so the other updates it confirms are logged as dropped,
 * as the desk is not running yet to take them. A basic group upgraded to a supergroup (it gets a
 * new id, and no "left" arrives for the old one) is one group: the old entry gives way to the new
 * id.
 */
import type { Logger } from "../observability/logger.ts";
import { callBotApi } from "./checks.ts";

export const ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"];

export interface FoundGroup {
	id: number;
	title: string;
	type: string;
	/** The bot's status there: member or administrator. */
	status: string;
}

interface Update {
	update_id: number;
	/** Only the upgrade's service messages matter here. */
	message?: {
		chat: { id: number; title?: string };
		migrate_to_chat_id?: number;
		migrate_from_chat_id?: number;
	};
	my_chat_member?: {
		chat: { id: number; type: string; title?: string };
		new_chat_member: { status: string };
	};
}

export interface GroupFinder {
	groups(): FoundGroup[];
	/** Aborts the held poll and waits for the loop to end (before the real poller starts). */
	stop(): Promise<void>;
}

export function startGroupFinder(options: {
	apiRoot: string;
	token: string;
	log: Logger;
	timeoutSeconds?: number;
}): GroupFinder {
	const abort = new AbortController();
	const found = new Map<number, FoundGroup>();
	let offset: number | undefined;
	const timeout = options.timeoutSeconds ?? 2;
	/** The basic group `from` became the supergroup `to`: one entry, under the new id. */
	const upgraded = (from: number, to: number, title: string | undefined) => {
		const old = found.get(from);
		found.delete(from);
		if (found.has(to) || !old) return;
		found.set(to, { ...old, id: to, title: title ?? old.title, type: "supergroup" });
	};
	const loop = (async () => {
		while (!abort.signal.aborted) {
			const answer = await callBotApi<Update[]>(
				{ ...options, timeoutMs: (timeout + 10) * 1000 },
				"getUpdates",
				{ ...(offset !== undefined ? { offset } : {}), timeout, allowed_updates: ALLOWED_UPDATES },
				abort.signal,
			);
			if (abort.signal.aborted) break;
			if (!answer.ok) {
				await Bun.sleep(1000);
				continue;
			}
			for (const update of answer.result) {
				offset = update.update_id + 1;
				const { message } = update;
				if (message?.migrate_to_chat_id !== undefined) {
					upgraded(message.chat.id, message.migrate_to_chat_id, undefined);
					continue;
				}
				if (message?.migrate_from_chat_id !== undefined) {
					upgraded(message.migrate_from_chat_id, message.chat.id, message.chat.title);
					continue;
				}
				const change = update.my_chat_member;
				if (!change) {
					options.log.warn("setup: an update arrived before the desk runs; dropped", {
						event: "setup.update_dropped",
						updateId: update.update_id,
					});
					continue;
				}
				const { chat, new_chat_member } = change;
				if (chat.type !== "group" && chat.type !== "supergroup") continue;
				if (new_chat_member.status === "left" || new_chat_member.status === "kicked")
					found.delete(chat.id);
				else
					found.set(chat.id, {
						id: chat.id,
						title: chat.title ?? String(chat.id),
						type: chat.type,
						status: new_chat_member.status,
					});
			}
		}
	})();
	return {
		groups: () => [...found.values()],
		async stop() {
			abort.abort();
			await loop;
		},
	};
}
