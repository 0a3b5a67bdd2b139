/**
 * Which support group an update speaks for: the handlers read `groupId` (the chat they answer
 * in) and `groupKey` (how that group's topics are keyed), so an update from any configured group
 * is handled as if it were the only one.
 */
import { groupKey, type SupportGroups } from "../core/support-groups.ts";

export interface GroupScoped {
	/** The group this update came from (the default group for private chats and others). */
	groupId: number;
	/** `groupKey` of that group: topic ids are numbered per group. */
	groupKey: number;
	groups: SupportGroups;
}

/** The deps as seen from `chatId`: its group when it is one of the support groups. */
export function scopedToChat<T extends GroupScoped>(deps: T, chatId: number | undefined): T {
	const ids = deps.groups.ids();
	if (chatId === undefined || chatId === deps.groupId || !ids.includes(chatId)) return deps;
	return { ...deps, groupId: chatId, groupKey: groupKey(ids, chatId) };
}
