/**
 * Routes each Telegram update to its handler inside one transaction that also records the update
 * id (applied at most once in effect, SPEC §3.7); ephemeral answers follow the commit.
 */
import type { TelegramUpdate } from "gramio";
import { commitUpdate } from "../core/unit-of-work.ts";
import { onCallback } from "./callbacks.ts";
import { onPrivateEdit, onPrivateMessage } from "./private-chat.ts";
import type { AfterCommit, RouterDeps } from "./router-deps.ts";
import { onTopicEdit, onTopicMessage } from "./topic-updates.ts";

export type { RouterDeps } from "./router-deps.ts";

export function createUpdateRouter(deps: RouterDeps) {
	return async (update: TelegramUpdate): Promise<void> => {
		const after: AfterCommit = [];
		await commitUpdate(deps.core, update.update_id, async (work) => {
			const message = update.message;
			if (message?.chat.type === "private") return onPrivateMessage(work, deps, message, after);
			if (message) return onTopicMessage(work, deps, message);
			const edited = update.edited_message;
			if (edited?.chat.type === "private") return onPrivateEdit(work, edited);
			if (edited) return onTopicEdit(work, deps, edited);
			if (update.callback_query) return onCallback(work, deps, update.callback_query, after);
		});
		for (const call of after)
			await call().catch((error: unknown) =>
				deps.log.debug("after-commit call failed", { error: String(error) }),
			);
	};
}
