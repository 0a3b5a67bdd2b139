/**
 * Routes each Telegram update to its handler inside one transaction that also records the update
 * id (applied at most once in effect); ephemeral answers follow the commit.
 *
 * A poisoned update never stops intake: when its effects keep failing (anything but the database
 * being unreachable, which is nobody's update's fault), it is tried a few times with backoff,
 * then recorded in `failed_updates` with its reason, logged, announced in the support group's
 * General topic through the outbox, and acknowledged as applied, so the poller's offset (or the
 * webhook's 200) moves past it and every other chat keeps flowing.
 */
import { sql } from "drizzle-orm";
import type { TelegramUpdate } from "gramio";
import { errorFacts } from "../core/error-facts.ts";
import { commit, commitUpdate } from "../core/unit-of-work.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { failedUpdates } from "../db/schema.ts";
import { enqueueOutbox } from "../outbox/enqueue.ts";
import { onCallback } from "./callbacks.ts";
import { onPrivateEdit, onPrivateMessage } from "./private-chat.ts";
import type { AfterCommit, RouterDeps } from "./router-deps.ts";
import { onTopicEdit, onTopicMessage } from "./topic-updates.ts";
import { scopedToChat } from "./update-group.ts";

export type { RouterDeps } from "./router-deps.ts";

/** Tries per update before it is set aside, and the pause before the first retry (doubling). */
export const POISON_ATTEMPTS = 4;
const FIRST_RETRY_MS = 250;

/** The chat an update came from, for the notice (never its text). */
function chatOf(update: TelegramUpdate): number | undefined {
	const message = update.message ?? update.edited_message ?? update.callback_query?.message;
	return message?.chat.id ?? update.callback_query?.from.id;
}

/** The update as stored for inspection: jsonb refuses NUL, which a poisoned update may carry. */
function storable(update: TelegramUpdate): unknown {
	try {
		return JSON.parse(JSON.stringify(update).replaceAll("\\u0000", ""));
	} catch {
		return { update_id: update.update_id };
	}
}

export function createUpdateRouter(deps: RouterDeps) {
	const apply = applyOnce(deps);
	return async (update: TelegramUpdate): Promise<void> => {
		for (let attempt = 1; ; attempt++) {
			try {
				await apply(update);
				return;
			} catch (error) {
				// The database being away is not this update's fault: the caller retries it
				// (never skipped) until the database is back.
				if (isDatabaseUnavailable(error)) throw error;
				const facts = errorFacts(error);
				if (attempt < POISON_ATTEMPTS) {
					deps.log.warn("update failed; retrying", {
						event: "telegram.update_retry",
						updateId: update.update_id,
						attempt,
						...facts,
					});
					await Bun.sleep(FIRST_RETRY_MS * 2 ** (attempt - 1));
					continue;
				}
				await setAside(deps, update, facts, attempt);
				return;
			}
		}
	};
}

/**
 * Records the update as failed and applied (a redelivery changes nothing), and queues the notice
 * for the General topic, in one transaction. The reason kept is the kind of failure and the
 * database's SQLSTATE, never an error message that could quote the update's text.
 */
async function setAside(
	deps: RouterDeps,
	update: TelegramUpdate,
	facts: ReturnType<typeof errorFacts>,
	attempts: number,
) {
	const reason = [facts.errorName, facts.sqlState && `SQLSTATE ${facts.sqlState}`]
		.filter(Boolean)
		.join(", ");
	deps.log.error("update set aside after repeated failures", {
		event: "telegram.update_failed",
		updateId: update.update_id,
		attempts,
		...facts,
	});
	await commit(deps.core, async ({ tx }) => {
		await tx.execute(
			sql`insert into processed_updates (update_id) values (${update.update_id}) on conflict do nothing`,
		);
		await tx
			.insert(failedUpdates)
			.values({ updateId: update.update_id, update: storable(update), reason, attempts })
			.onConflictDoNothing();
		// The General topic belongs to no customer: the item has none (its own queue).
		await enqueueOutbox(tx, null, {
			kind: "group_notice",
			text: "noticeUpdateFailed",
			vars: {
				updateId: update.update_id,
				chat: chatOf(update) ?? "?",
				attempts,
				reason: `${reason} (ref ${facts.errorId})`,
			},
		});
	});
	deps.core.wakeOutbox();
}

function applyOnce(shared: RouterDeps) {
	return async (update: TelegramUpdate): Promise<void> => {
		const deps = scopedToChat(shared, chatOf(update));
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
