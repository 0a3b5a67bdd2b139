/**
 * The bot checks, in the order each depends on the ones before (token, bot settings, update
 * channel, group, Topics, admin rights, a human admin), shared by the setup page,
 * `topicdesk doctor`, the startup log and `/health/ready`.
 * They talk to the Bot API with plain fetch rather than the service's GramIO client: the setup
 * page checks a token before any client exists, and a check must never count against the
 * outbox's flood budget or wait out its pauses.
 */

/** One check's outcome: `ok`, a failure (`ok: false`), or a warning that does not fail. */
export interface CheckResult {
	id: string;
	ok: boolean;
	warning?: boolean;
	/** What was checked, in words: "The group is a forum (Topics on)". */
	label: string;
	/** Short, for readiness and logs: "cannot manage topics in Support". */
	problem?: string;
	/** How to fix it, for the setup page and doctor. */
	fix?: string;
}

export interface BotIdentity {
	id: number;
	username: string;
	firstName: string;
	canJoinGroups: boolean;
	canReadAllGroupMessages: boolean;
}

export interface CheckReport {
	/** True when no check failed (warnings allowed). */
	ok: boolean;
	results: CheckResult[];
	bot?: BotIdentity;
	groupTitle?: string;
	/** The first failure's short text, e.g. "cannot manage topics in Support". */
	problem?: string;
}

export interface CheckOptions {
	apiRoot: string;
	token: string;
	/** Absent: only the token checks run (setup page, before a group is chosen). */
	groupId?: number;
	/** Polling: a webhook must not be set; webhook mode: it must be this URL. */
	webhookUrl?: string;
	/** Run check 5 (a getUpdates probe); only when no instance of ours is polling. */
	probePolling?: boolean;
	timeoutMs?: number;
	fetch?: typeof fetch;
	/** Told how each call ended: "ok", the error code, or "network" (debug logs). */
	onCall?: (method: string, result: string) => void;
}

/** The checks about one group (the rest are about the bot): repeated for each support group. */
export const GROUP_CHECKS = new Set([
	"group_found",
	"forum",
	"bot_admin",
	"manage_topics",
	"pin_messages",
	"admins_started",
	"human_admin",
]);

export const TOKEN_SHAPE = /^\d+:[A-Za-z0-9_-]{30,}$/;

type ApiAnswer<T> =
	| { ok: true; result: T }
	| {
			ok: false;
			error_code: number;
			description: string;
			parameters?: { migrate_to_chat_id?: number; retry_after?: number };
	  }
	| { ok: false; network: string };

/**
 * Calls one Bot API method; never throws. The token is in the URL, so errors are reported
 * without it.
 */
export async function callBotApi<T>(
	options: Pick<CheckOptions, "apiRoot" | "token" | "timeoutMs" | "fetch" | "onCall">,
	method: string,
	params: Record<string, unknown> = {},
	signal?: AbortSignal,
): Promise<ApiAnswer<T>> {
	const doFetch = options.fetch ?? fetch;
	const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
	try {
		const response = await doFetch(`${options.apiRoot}/bot${options.token}/${method}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(params),
			signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
		});
		const body = (await response.json()) as ApiAnswer<T>;
		if (typeof body === "object" && body && "ok" in body) {
			options.onCall?.(
				method,
				body.ok ? "ok" : "error_code" in body ? String(body.error_code) : "network",
			);
			return body;
		}
		options.onCall?.(method, "network");
		return { ok: false, network: `unexpected answer (HTTP ${response.status})` };
	} catch (error) {
		options.onCall?.(method, "network");
		return { ok: false, network: error instanceof Error ? error.name : "request failed" };
	}
}

interface ChatInfo {
	id: number;
	type: string;
	title?: string;
	is_forum?: boolean;
	linked_chat_id?: number;
}

interface Member {
	status: string;
	user: { id: number; is_bot: boolean; first_name: string };
	can_manage_topics?: boolean;
	can_pin_messages?: boolean;
}

/**
 * Runs the checks in order and stops at the first one the rest depend on (a bad token, a group
 * the bot cannot see). Never throws.
 *
 * @example
 * const report = await runBotChecks({ apiRoot, token, groupId: -1001234567890 });
 * if (!report.ok) console.log(report.problem); // "cannot manage topics in Support"
 */
export async function runBotChecks(options: CheckOptions): Promise<CheckReport> {
	const results: CheckResult[] = [];
	const report = (extra: Partial<CheckReport> = {}): CheckReport => {
		const failed = results.find((r) => !r.ok && !r.warning);
		return {
			ok: !failed,
			results,
			...extra,
			...(failed?.problem ? { problem: failed.problem } : {}),
		};
	};
	const pass = (id: string, label: string) => results.push({ id, ok: true, label });
	const fail = (id: string, label: string, problem: string, fix: string) =>
		results.push({ id, ok: false, label, problem, fix });
	const warn = (id: string, label: string, fix: string) =>
		results.push({ id, ok: true, warning: true, label, fix });
	const unreachable = `Can't reach Telegram at ${options.apiRoot}. Check the server's internet access or TELEGRAM_API_URL.`;

	const token = options.token.trim();
	const api = { ...options, token };
	// The shape is judged only when Telegram refuses the token too: local Bot API servers and
	// test doubles accept tokens of other shapes, and getMe is the authority.
	const shapeOk = TOKEN_SHAPE.test(token);
	const me =
		shapeOk || token.includes(":")
			? await callBotApi<{
					id: number;
					is_bot: boolean;
					first_name: string;
					username?: string;
					can_join_groups?: boolean;
					can_read_all_group_messages?: boolean;
				}>(api, "getMe")
			: undefined;
	if (!me?.ok && !shapeOk) {
		fail(
			"token_shape",
			"The token looks like a bot token",
			"the bot token is malformed",
			"This isn't a bot token. In @BotFather open /mybots → your bot → API Token and copy the whole line.",
		);
		return report();
	}
	if (!me) return report();
	if (!me.ok) {
		if ("network" in me)
			fail("get_me", "Telegram accepts the token", "Telegram unreachable", unreachable);
		else
			fail(
				"get_me",
				"Telegram accepts the token",
				"Telegram rejected the bot token",
				me.error_code === 401 || me.error_code === 404
					? "Telegram rejected this token: it is mistyped or was revoked. Copy the current token from @BotFather."
					: `Telegram answered: ${me.description}`,
			);
		return report();
	}
	const bot: BotIdentity = {
		id: me.result.id,
		username: me.result.username ?? "",
		firstName: me.result.first_name,
		canJoinGroups: me.result.can_join_groups === true,
		canReadAllGroupMessages: me.result.can_read_all_group_messages === true,
	};
	const handle = `@${bot.username}`;
	pass("get_me", `Telegram accepts the token: ${bot.firstName} (${handle})`);
	if (bot.canJoinGroups) pass("groups_allowed", "The bot may be added to groups");
	else
		fail(
			"groups_allowed",
			"The bot may be added to groups",
			"the bot may not join groups",
			"In @BotFather: /mybots → Bot Settings → Allow Groups → Turn on. Wait a minute, then continue.",
		);

	const hook = await callBotApi<{ url: string; pending_update_count: number }>(
		api,
		"getWebhookInfo",
	);
	if (hook.ok) {
		const url = hook.result.url;
		if (!url || url === options.webhookUrl)
			pass("update_channel", "No other server receives this bot's updates");
		else
			fail(
				"update_channel",
				"No other server receives this bot's updates",
				`the bot delivers updates to ${url}`,
				`This bot delivers updates to ${url}. If another program uses this bot, stop it first; starting topicdesk in polling mode switches the bot to this server.`,
			);
	}
	if (options.probePolling && !options.webhookUrl) {
		const probe = await callBotApi<unknown[]>(api, "getUpdates", { limit: 1, timeout: 0 });
		if (
			!probe.ok &&
			"error_code" in probe &&
			probe.error_code === 409 &&
			!/webhook/i.test(probe.description)
		)
			fail(
				"second_poller",
				"No other program reads this bot's updates",
				"another program polls this bot",
				"Another program is reading this bot's updates. Stop it, or revoke the token in @BotFather and paste the new one.",
			);
		else if (probe.ok) pass("second_poller", "No other program reads this bot's updates");
	}

	if (options.groupId === undefined) return report({ bot });
	const group = options.groupId;
	const chat = await callBotApi<ChatInfo>(api, "getChat", { chat_id: group });
	if (!chat.ok) {
		if ("network" in chat)
			fail("group_found", `The bot is in group ${group}`, "Telegram unreachable", unreachable);
		else if (chat.parameters?.migrate_to_chat_id)
			fail(
				"group_found",
				`The bot is in group ${group}`,
				`group ${group} was upgraded to ${chat.parameters.migrate_to_chat_id}`,
				`This group was upgraded; its id is now ${chat.parameters.migrate_to_chat_id}. Update SUPPORT_GROUP_ID.`,
			);
		else
			fail(
				"group_found",
				`The bot is in group ${group}`,
				`group ${group} not found`,
				`The bot isn't in group ${group}: add it again or fix the id (SUPPORT_GROUP_ID).`,
			);
		return report({ bot });
	}
	const title = chat.result.title ?? String(group);
	const where = `in ${title}`;
	pass("group_found", `The bot is in group ${title} (${group})`);
	if (chat.result.type === "supergroup" && chat.result.is_forum === true)
		pass("forum", `${title} is a forum (Topics on)`);
	else
		fail(
			"forum",
			`${title} is a forum (Topics on)`,
			`topics are off ${where}`,
			`Turn on Topics: group → Edit → Topics (owner only).${
				chat.result.linked_chat_id
					? " Discussion groups of a channel can't use Topics; use a separate group."
					: ""
			}`,
		);

	const member = await callBotApi<Member>(api, "getChatMember", {
		chat_id: group,
		user_id: bot.id,
	});
	const status = member.ok ? member.result.status : "unknown";
	if (status === "administrator") pass("bot_admin", `${handle} is an administrator ${where}`);
	else
		fail(
			"bot_admin",
			`${handle} is an administrator ${where}`,
			`not admin ${where}`,
			status === "left" || status === "kicked"
				? `Add ${handle} back to the group.`
				: status === "restricted"
					? `Lift ${handle}'s restrictions, then make it an administrator.`
					: `Make ${handle} an administrator: group → Administrators → Add admin.`,
		);
	const rights = member.ok ? member.result : undefined;
	if (rights?.can_manage_topics === true) pass("manage_topics", `${handle} may manage topics`);
	else
		fail(
			"manage_topics",
			`${handle} may manage topics`,
			`cannot manage topics ${where}`,
			`Edit ${handle}'s admin rights and turn on Manage Topics.`,
		);
	if (rights?.can_pin_messages === true) pass("pin_messages", `${handle} may pin messages`);
	else
		fail(
			"pin_messages",
			`${handle} may pin messages`,
			`cannot pin messages ${where}`,
			`Edit ${handle}'s admin rights and turn on Pin Messages.`,
		);

	const admins = await callBotApi<Member[]>(api, "getChatAdministrators", { chat_id: group });
	const humans = admins.ok
		? admins.result.filter(
				(m) => !m.user.is_bot && (m.status === "creator" || m.status === "administrator"),
			)
		: [];
	if (humans.length > 0) {
		pass("human_admin", `${title} has a human administrator`);
		warn(
			"admins_started",
			"Each admin should open the bot and press Start",
			`Each admin should open ${handle} and press Start to get reminders by DM.`,
		);
	} else
		fail(
			"human_admin",
			`${title} has a human administrator`,
			`no human admin ${where}`,
			"Make at least one person an administrator; reminders go to them.",
		);
	if (!bot.canReadAllGroupMessages)
		warn(
			"privacy",
			"Group privacy mode is on",
			`If operators' replies don't arrive: @BotFather → Bot Settings → Group Privacy → Turn off, then remove and re-add ${handle}.`,
		);
	return report({ bot, groupTitle: title });
}

/** One line per check, as doctor prints it: `✓ …`, `✗ … — fix`, `⚠ … — advice`. */
export function formatResults(results: CheckResult[]): string[] {
	return results.map((r) =>
		r.warning
			? `⚠ ${r.label} — ${r.fix ?? ""}`
			: r.ok
				? `✓ ${r.label}`
				: `✗ ${r.label} — ${r.fix ?? ""}`,
	);
}
