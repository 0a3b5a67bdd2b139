/**
 * What the web door may ask of the bot without going through the outbox: its public profile
 * (name, username, avatar), cached, and the ephemeral "typing…" action in a customer's topic.
 */
import { eq } from "drizzle-orm";
import { groupOfStored } from "../core/support-groups.ts";
import type { Database } from "../db/client.ts";
import { customers } from "../db/schema.ts";
import type { Logger } from "../observability/logger.ts";
import { type FloodBudget, type GroupKey, groupKeyOf } from "../outbox/flood-budget.ts";
import type { BotClient } from "./bot-api.ts";

export interface BotIdentity {
	name: string;
	username: string;
}

export interface BotProfile {
	/** False when no BOT_TOKEN is configured. */
	enabled: boolean;
	/** The bot's name and username (getMe), cached; null when the bot is disabled or unreachable. */
	identity(): Promise<BotIdentity | null>;
	/** The bot's current profile photo, cached; null when it has none. */
	avatar(): Promise<{ bytes: Uint8Array; type: string } | null>;
	/**
	 * Fetches a Telegram file (getFile + download) for the media proxy, passing a Range through;
	 * null when the bot is disabled or Telegram does not know the file.
	 */
	download(fileId: string, range: string | null): Promise<Response | null>;
	/** Shows "typing…" in the customer's topic; best effort, never throws. */
	typing(customerId: string): void;
}

const IDENTITY_TTL_MS = 10 * 60_000;
/** A failed getMe is remembered this long, so a burst of /ask-support does not hammer Telegram. */
const IDENTITY_FAILURE_TTL_MS = 30_000;
const AVATAR_TTL_MS = 60 * 60_000;

export const disabledBotProfile: BotProfile = {
	enabled: false,
	identity: async () => null,
	avatar: async () => null,
	download: async () => null,
	typing: () => {},
};

export function createBotProfile(deps: {
	client: BotClient;
	apiRoot: string;
	token: string;
	database: Database;
	/** The support groups, the default first. */
	groups: () => readonly number[];
	log: Logger;
	/** Typing is shown only while the group's message budget has room to spare. */
	budget?: FloodBudget;
}): BotProfile {
	let identity: { value: BotIdentity | null; at: number } | undefined;
	let identityFailedAt = Number.NEGATIVE_INFINITY;
	let identityLoading: Promise<BotIdentity | null> | undefined;
	let avatar: { value: { bytes: Uint8Array; type: string } | null; at: number } | undefined;

	async function loadAvatar() {
		const photos = await deps.client.api.getUserProfilePhotos({
			user_id: deps.client.botId,
			limit: 1,
		});
		const sizes = photos.photos[0];
		const largest = sizes?.[sizes.length - 1];
		if (!largest) return null;
		const file = await deps.client.api.getFile({ file_id: largest.file_id });
		if (!file.file_path) return null;
		const response = await fetch(`${deps.apiRoot}/file/bot${deps.token}/${file.file_path}`, {
			signal: AbortSignal.timeout(10_000),
		});
		if (!response.ok) return null;
		return { bytes: new Uint8Array(await response.arrayBuffer()), type: "image/jpeg" };
	}

	return {
		enabled: true,
		async download(fileId, range) {
			try {
				const file = await deps.client.api.getFile({ file_id: fileId });
				if (!file.file_path) return null;
				return await fetch(`${deps.apiRoot}/file/bot${deps.token}/${file.file_path}`, {
					headers: range ? { range } : {},
					signal: AbortSignal.timeout(60_000),
				});
			} catch (error) {
				deps.log.warn("media download failed", { error: String(error) });
				return null;
			}
		},
		async identity() {
			if (identity && Date.now() - identity.at < IDENTITY_TTL_MS) return identity.value;
			// A failure is cached briefly, and concurrent askers share one call.
			if (Date.now() - identityFailedAt < IDENTITY_FAILURE_TTL_MS) return identity?.value ?? null;
			identityLoading ??= (async () => {
				try {
					const me = await deps.client.api.getMe();
					identity = {
						value: { name: me.first_name, username: me.username ?? "" },
						at: Date.now(),
					};
					return identity.value;
				} catch (error) {
					identityFailedAt = Date.now();
					deps.log.warn("getMe failed", { error: String(error) });
					return identity?.value ?? null;
				} finally {
					identityLoading = undefined;
				}
			})();
			return identityLoading;
		},
		async avatar() {
			if (avatar && Date.now() - avatar.at < AVATAR_TTL_MS) return avatar.value;
			try {
				avatar = { value: await loadAvatar(), at: Date.now() };
			} catch (error) {
				deps.log.warn("bot avatar unavailable", { error: String(error) });
				return avatar?.value ?? null;
			}
			return avatar.value;
		},
		typing(customerId) {
			// Dropped, never queued, when the group's budget is short: messages come first, and a
			// late "typing…" is useless.
			const { budget } = deps;
			if (budget && deps.groups().every((id) => tight(budget, groupKeyOf(deps.groups(), id))))
				return;
			void (async () => {
				const [customer] = await deps.database.db
					.select({ topicId: customers.topicId, groupId: customers.groupId })
					.from(customers)
					.where(eq(customers.id, customerId));
				const groupId = groupOfStored(deps.groups(), customer?.groupId ?? null);
				if (customer?.topicId == null || groupId === undefined) return;
				if (budget && tight(budget, groupKeyOf(deps.groups(), groupId))) return;
				await deps.client.api.sendChatAction({
					chat_id: groupId,
					message_thread_id: customer.topicId,
					action: "typing",
				});
			})().catch((error: unknown) => deps.log.debug("typing not shown", { error: String(error) }));
		},
	};
}

const tight = (budget: FloodBudget, group: GroupKey) =>
	budget.groupTight(group) || budget.available(group) < 1;
