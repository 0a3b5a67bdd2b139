/**
 * Deliveries across several support groups: each item is delivered by the handlers of its
 * customer's group (the group of a notice that names one), so every handler writes to one group
 * as if it were the only one. A group Telegram refuses for good is marked lost (the other groups
 * are told in their General topic), and its items end dead with that reason, without a call,
 * until the bot is back: `/retry` then queues them again.
 */
import { eq } from "drizzle-orm";
import type { TelegramUpdate } from "gramio";
import { groupOfStored } from "../core/support-groups.ts";
import { type CoreDeps, commit } from "../core/unit-of-work.ts";
import { customers } from "../db/schema.ts";
import type { Logger } from "../observability/logger.ts";
import type { ClaimedItem, ClassifyFailure, OutboxHandler } from "../outbox/delivery.ts";
import type { OutboxKind } from "../outbox/items.ts";
import { type GroupRegistry, meansGroupLost } from "./group-registry.ts";

/** Thrown instead of calling Telegram for an item of a lost group. */
export class GroupLost extends Error {
	constructor(
		readonly groupId: number,
		readonly reason: string,
	) {
		super(`support group ${groupId} is unreachable: ${reason}`);
	}
}

/** Failures as the outbox sees them: an item of a lost group is dead, with the group's reason. */
export function classifyWithGroups(classify: ClassifyFailure): ClassifyFailure {
	return (error) =>
		error instanceof GroupLost
			? { kind: "permanent", code: 403, description: error.message, quiet: true }
			: classify(error);
}

export interface GroupDeliveryDeps {
	core: CoreDeps;
	groups: GroupRegistry;
	classify: ClassifyFailure;
	log: Logger;
	/** The handlers that write to one group. */
	handlersFor(groupId: number): Record<OutboxKind, OutboxHandler>;
	/**
	 * Asks Telegram about the group itself (a 403 may be about another chat a call names, such as
	 * the private chat a message is copied from): why it is unreachable, or undefined.
	 */
	probe(groupId: number): Promise<string | undefined>;
}

/** The group an item writes to: its own (a notice), else its customer's. */
async function groupOfItem(deps: GroupDeliveryDeps, item: ClaimedItem): Promise<number> {
	const ids = deps.groups.ids();
	const named = Number(item.payload.groupId);
	if (ids.includes(named)) return named;
	if (item.groupKey !== undefined) return groupOfStored(ids, item.groupKey || null) as number;
	if (!item.customerId) return ids[0] as number;
	const [row] = await deps.core.database.db
		.select({ groupId: customers.groupId })
		.from(customers)
		.where(eq(customers.id, item.customerId));
	return groupOfStored(ids, row?.groupId ?? null) as number;
}

/** Tells every other writable group, in its General topic, that this one is lost or back. */
export async function announceGroup(
	core: CoreDeps,
	groups: GroupRegistry,
	groupId: number,
	text: "noticeGroupLost" | "noticeGroupBack",
	reason = "",
) {
	const others = groups.open().filter((id) => id !== groupId);
	if (others.length === 0) return;
	await commit(core, (work) =>
		work.enqueueAll(
			others.map((other) => ({
				customerId: null,
				item: { kind: "group_notice", text, vars: { group: groupId, reason }, groupId: other },
			})),
		),
	);
}

/** Marks a group lost or back, logged, and tells the other groups (once per change). */
export function groupWatch(deps: Pick<GroupDeliveryDeps, "core" | "groups" | "log">) {
	const { core, groups, log } = deps;
	return {
		async lose(groupId: number, reason: string) {
			if (!groups.lose(groupId, reason)) return;
			log.error("support group unreachable", { event: "telegram.group_lost", groupId, reason });
			await announceGroup(core, groups, groupId, "noticeGroupLost", reason);
		},
		async regain(groupId: number) {
			if (!groups.regain(groupId)) return;
			log.info("support group reachable again", { event: "telegram.group_back", groupId });
			await announceGroup(core, groups, groupId, "noticeGroupBack");
		},
		/**
		 * What an update says about a support group: the bot removed from it (`my_chat_member`),
		 * or anything from it at all, which shows the bot is a member again.
		 */
		async onUpdate(update: TelegramUpdate) {
			const member = update.my_chat_member;
			if (member && groups.ids().includes(member.chat.id)) {
				const status = member.new_chat_member.status;
				if (status === "left" || status === "kicked")
					return this.lose(member.chat.id, `the bot was removed from the group (${status})`);
				return this.regain(member.chat.id);
			}
			const chat = (update.message ?? update.edited_message ?? update.callback_query?.message)
				?.chat;
			if (chat) await this.regain(chat.id);
		},
	};
}

/** One handler per kind that hands each item to the handlers of its group. */
export function groupDeliveries(deps: GroupDeliveryDeps): Record<OutboxKind, OutboxHandler> {
	const { groups } = deps;
	const { lose } = groupWatch(deps);
	const route =
		(kind: OutboxKind): OutboxHandler =>
		async (context) => {
			const groupId = await groupOfItem(deps, context.item);
			// A private chat's items do not write to the group (an operator's copy reads from it).
			const writesToGroup = !kind.startsWith("dm_");
			const lost = groups.lostReason(groupId);
			if (lost !== undefined && writesToGroup) throw new GroupLost(groupId, lost);
			try {
				await deps.handlersFor(groupId)[kind](context);
			} catch (error) {
				const failure = deps.classify(error);
				const suspect =
					writesToGroup &&
					failure.kind === "permanent" &&
					meansGroupLost(failure.code, failure.description);
				const reason = suspect ? await deps.probe(groupId) : undefined;
				if (reason !== undefined) {
					await lose(groupId, reason);
					throw new GroupLost(groupId, reason);
				}
				throw error;
			}
		};
	const kinds = Object.keys(deps.handlersFor(groups.ids()[0] as number)) as OutboxKind[];
	return Object.fromEntries(kinds.map((kind) => [kind, route(kind)])) as Record<
		OutboxKind,
		OutboxHandler
	>;
}
