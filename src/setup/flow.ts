/**
 * The first-run setup as state: the pasted token and its bot, the groups the bot was added to,
 * the checks of the chosen group, and the save that hands the bot to the service. Whether the
 * page is open, and which save wins, the database decides (the gate, setup-code.ts), so every
 * instance answers alike; what the operator typed stays with the instance that got it. The web
 * door renders it (src/web/setup-routes.ts); nothing here knows HTTP.
 */
import type { Logger } from "../observability/logger.ts";
import {
	type BotIdentity,
	type CheckReport,
	type CheckResult,
	callBotApi,
	GROUP_CHECKS,
	runBotChecks,
} from "./checks.ts";
import { type FoundGroup, type GroupFinder, startGroupFinder } from "./group-finder.ts";
import type { CodeCheck } from "./setup-code.ts";
import type { StoredBot } from "./stored-bot.ts";

/**
 * The admin rights Telegram pre-ticks when someone adds the bot to a group (missing
 * rights are where self-hosters get stuck): those the checks require (manage topics, pin) and
 * deleting messages (deleteForumTopic needs it). Every other right is asked for as off, so the
 * bot is never offered more than it uses. The page's `startgroup` link asks for the same ones.
 */
export const DEFAULT_ADMIN_RIGHTS = {
	is_anonymous: false,
	can_manage_chat: true,
	can_delete_messages: true,
	can_manage_video_chats: false,
	can_restrict_members: false,
	can_promote_members: false,
	can_change_info: false,
	can_invite_users: false,
	can_post_stories: false,
	can_edit_stories: false,
	can_delete_stories: false,
	can_pin_messages: true,
	can_manage_topics: true,
};

/** The same rights in the words of a `t.me/<bot>?startgroup=…&admin=` link (`pin_messages`). */
export const STARTGROUP_ADMIN_RIGHTS = Object.entries(DEFAULT_ADMIN_RIGHTS)
	.filter(([name, on]) => on && name.startsWith("can_"))
	.map(([name]) => name.slice("can_".length))
	.join("+");

export interface SetupState {
	/** Failed token checks, shown under the token field. */
	tokenProblems: CheckResult[];
	bot?: BotIdentity;
	groups: FoundGroup[];
	groupId?: number;
	report?: CheckReport;
	/** Further support groups typed in by id, each with the checks about a group. */
	moreGroups: { groupId: number; results: CheckResult[] }[];
	/** What was typed there that is not a supergroup id. */
	moreProblems: string[];
	done: boolean;
}

/** The database's word on the setup, shared by every instance. */
export interface SetupGate {
	/** What a presented code opens now. */
	check(code: string | null | undefined): Promise<CodeCheck>;
	/** Stores the bot once, with a code that is still open; "done" when a save came first. */
	save(bot: StoredBot, code: string): Promise<"saved" | "done" | "refused">;
}

/** A save's outcome: stored, checks not passed yet, or the gate's refusal. */
export type SaveOutcome = "saved" | "not ready" | "done" | "refused";

export interface SetupFlow {
	/** "open" when the code opens the page, "done" once a bot was saved with it, else "refused". */
	check(code: string | null | undefined): Promise<CodeCheck>;
	state(): SetupState;
	submitToken(token: string): Promise<void>;
	chooseGroup(groupId: number): Promise<void>;
	/** Further support groups, comma-separated ids: each is checked like the first. */
	addGroups(ids: string): Promise<void>;
	recheck(): Promise<void>;
	/** Saves with `code` when every check passes. */
	save(code: string): Promise<SaveOutcome>;
	stop(): Promise<void>;
}

export function createSetupFlow(options: {
	apiRoot: string;
	log: Logger;
	gate: SetupGate;
	/** Starts the bot the save stored; the flow has already stopped its poller. */
	onSaved(bot: StoredBot): void;
}): SetupFlow {
	let token: string | undefined;
	let finder: GroupFinder | undefined;
	const state: SetupState = {
		tokenProblems: [],
		groups: [],
		moreGroups: [],
		moreProblems: [],
		done: false,
	};
	const checkMore = async () => {
		const ids = state.moreGroups.map((more) => more.groupId);
		state.moreGroups = [];
		for (const groupId of ids) {
			const report = token
				? await runBotChecks({ apiRoot: options.apiRoot, token, groupId })
				: undefined;
			const results = (report?.results ?? []).filter((result) => GROUP_CHECKS.has(result.id));
			state.moreGroups.push({ groupId, results });
		}
	};
	const check = async () => {
		if (!token || state.groupId === undefined) return;
		state.report = await runBotChecks({
			apiRoot: options.apiRoot,
			token,
			groupId: state.groupId,
		});
		await checkMore();
	};
	const moreOk = () =>
		state.moreProblems.length === 0 &&
		state.moreGroups.every(
			(more) => more.results.length > 0 && more.results.every((r) => r.ok || r.warning),
		);
	const stopFinder = async () => {
		const running = finder;
		finder = undefined;
		await running?.stop();
	};
	return {
		check: (presented) => options.gate.check(presented),
		state: () => ({ ...state, groups: finder?.groups() ?? state.groups }),
		async submitToken(pasted) {
			await stopFinder();
			const candidate = pasted.trim();
			const report = await runBotChecks({ apiRoot: options.apiRoot, token: candidate });
			state.report = undefined;
			state.groupId = undefined;
			state.groups = [];
			if (!report.ok || !report.bot) {
				token = undefined;
				state.bot = undefined;
				state.tokenProblems = report.results.filter((r) => !r.ok);
				return;
			}
			token = candidate;
			state.bot = report.bot;
			state.tokenProblems = [];
			// A convenience, not a check: if Telegram refuses, the checks of step 3 still say
			// which right is missing.
			const rights = await callBotApi(
				{ apiRoot: options.apiRoot, token },
				"setMyDefaultAdministratorRights",
				{ rights: DEFAULT_ADMIN_RIGHTS },
			);
			if (!rights.ok)
				options.log.warn("setup: Telegram did not take the bot's default admin rights", {
					event: "setup.default_rights_refused",
					reason: "description" in rights ? rights.description : rights.network,
				});
			finder = startGroupFinder({ apiRoot: options.apiRoot, token, log: options.log });
		},
		async chooseGroup(groupId) {
			const groups = finder?.groups() ?? state.groups;
			if (!groups.some((group) => group.id === groupId)) return;
			state.groups = groups;
			state.groupId = groupId;
			await check();
		},
		async addGroups(typed) {
			const entries = typed
				.split(",")
				.map((entry) => entry.trim())
				.filter(Boolean);
			const ids = entries.filter((entry) => /^-100\d{1,16}$/.test(entry)).map(Number);
			state.moreProblems = entries.filter((entry) => !/^-100\d{1,16}$/.test(entry));
			state.moreGroups = [...new Set(ids)]
				.filter((id) => id !== state.groupId)
				.map((groupId) => ({ groupId, results: [] }));
			await checkMore();
		},
		recheck: check,
		async save(code) {
			await check();
			if (!token || state.groupId === undefined || !state.report?.ok || !moreOk())
				return "not ready";
			const moreGroupIds = state.moreGroups.map((more) => more.groupId);
			const bot = {
				token,
				groupId: state.groupId,
				...(moreGroupIds.length ? { moreGroupIds } : {}),
			};
			await stopFinder();
			const outcome = await options.gate.save(bot, code);
			if (outcome !== "saved") return outcome;
			state.done = true;
			options.onSaved(bot);
			options.log.info("setup complete: the bot is stored and running", {
				event: "setup.completed",
				bot: state.bot ? `@${state.bot.username}` : undefined,
				groupId: state.groupId,
			});
			return "saved";
		},
		async stop() {
			await stopFinder();
		},
	};
}
