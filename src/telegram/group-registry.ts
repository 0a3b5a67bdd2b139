/**
 * The support groups of the running bot and which of them it can still write to. A group
 * Telegram refuses for good (the bot was removed, the group deleted) is lost: new customers go
 * to the others, readiness and the doctor name it, and its queued work ends dead with the reason
 * until an update from it (an operator's `/retry`, say) shows the bot is back.
 */
import type { GroupRoute, SupportGroups } from "../core/support-groups.ts";

export interface LostGroup {
	groupId: number;
	reason: string;
}

export interface GroupRegistry extends SupportGroups {
	/** The running bot's groups, the default first (the environment's, or the setup page's). */
	use(ids: readonly number[]): void;
	/** Telegram refused this group for good; true when it was writable until now. */
	lose(groupId: number, reason: string): boolean;
	/** The bot reached this group again; true when it was lost until now. */
	regain(groupId: number): boolean;
	/** Why this group is lost, or undefined while it is writable. */
	lostReason(groupId: number): string | undefined;
	lost(): LostGroup[];
}

export function createGroupRegistry(routes: readonly GroupRoute[] = []): GroupRegistry {
	let ids: readonly number[] = [];
	const lost = new Map<number, string>();
	return {
		routes,
		ids: () => [...ids],
		open: () => ids.filter((id) => !lost.has(id)),
		use(next) {
			ids = [...new Set(next)];
		},
		lose(groupId, reason) {
			if (!ids.includes(groupId) || lost.has(groupId)) return false;
			lost.set(groupId, reason);
			return true;
		},
		regain: (groupId) => lost.delete(groupId),
		lostReason: (groupId) => lost.get(groupId),
		lost: () => [...lost].map(([groupId, reason]) => ({ groupId, reason })),
	};
}

/**
 * Telegram's answers that may mean the bot can no longer write into a group at all, as opposed to
 * one topic being gone or one message refused: the group itself is gone or closed to the bot.
 * A delivery's failure is only a suspicion (a 403 may concern the private chat a call copies
 * from); asking about the group itself (getChat) with this answer confirms it.
 */
export function meansGroupLost(code: number, description: string): boolean {
	return (
		code === 403 ||
		/chat not found|bot was kicked|bot is not a member|group chat was (deleted|upgraded)|CHAT_WRITE_FORBIDDEN|have no rights to send/i.test(
			description,
		)
	);
}
