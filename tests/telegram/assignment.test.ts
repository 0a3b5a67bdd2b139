/**
 * Who owns a ticket, end to end through the Bot API double: "Take" on the card (and two
 * operators pressing it at once), `/assign` by reply and by @username, `/unassign`, the first
 * reply taking an unassigned ticket (and `assignment.auto` "off"), the card and /history naming
 * the assignee, a reopened ticket going back to them, and SLA reminders and the breach DM going
 * to the assignee before the admins. Nothing of it ever reaches the customer.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import { telegramCustomers } from "../support/telegram-customers.ts";
import { type ApiCall, DEFAULT_OPERATOR } from "../support/telegram-double.ts";
import {
	eventually,
	newUser,
	nextCall,
	type TelegramFlow,
	useTelegramFlow,
} from "../support/telegram-flow.ts";

const OLGA = DEFAULT_OPERATOR;
const BORIS = { id: 5_000_102, first_name: "Boris", last_name: "Bauer", username: "boris_ops" };
const NOELLE = { id: 5_000_103, first_name: "Noëlle" };

/** Helpers bound to one flow (this file starts three: default, "off" and short SLA timers). */
function desk(flow: () => TelegramFlow) {
	const people = telegramCustomers(flow);

	/** A Telegram customer who asked a question; topic and card exist. */
	const customer = (name: string) => people.telegramCustomer(newUser(name), `${name} needs help`);

	/** The bot's answer to a button press. */
	async function press(cardId: number, data: string, from: typeof BORIS | typeof OLGA = OLGA) {
		const { tg } = flow();
		const query = tg.pressButton(tg.groupId, cardId, data, from);
		const answer = await nextCall(
			tg,
			0,
			(c) => c.method === "answerCallbackQuery" && c.params.callback_query_id === query.id,
		);
		return answer.params.text as string | undefined;
	}

	/** The card as the group shows it now, once it shows `text`. */
	function cardShows(cardId: number, text: string) {
		const { tg } = flow();
		return eventually(() => {
			const card = String(tg.message(tg.groupId, cardId)?.text ?? "");
			return card.includes(text) && card;
		});
	}

	/** A line the bot wrote in the topic (a notice or a command's answer). */
	const topicLine = (topicId: number, match: (text: string) => boolean, since = 0) =>
		nextCall(flow().tg, since, (c) => people.inTopic(c, topicId) && match(String(c.params.text)));

	/** A line the bot wrote in the General topic (no thread). */
	const generalLine = (text: string, since: number) =>
		nextCall(
			flow().tg,
			since,
			(c) =>
				c.method === "sendMessage" &&
				Number(c.params.chat_id) === flow().tg.groupId &&
				c.params.message_thread_id === undefined &&
				c.params.text === text,
		);

	async function assigneeOf(customerId: string) {
		const [row] = await flow().service.database.query<{ assignee_id: number | string | null }>(
			sql`select assignee_id from customers where id = ${customerId}`,
		);
		return row?.assignee_id == null ? null : Number(row.assignee_id);
	}

	/** The ASSIGNED / UNASSIGNED events of a customer, with their details. */
	async function assignments(customerId: string) {
		return (await people.eventRows(customerId))
			.filter((e) => e.kind === "ASSIGNED" || e.kind === "UNASSIGNED")
			.map((e) => ({ kind: e.kind, actor: e.actor, details: e.details }));
	}

	/** Nothing the customer could see: no DM beyond the bot's own first answers, nothing stored. */
	async function customerSawNothing(user: { id: number }, customerId: string) {
		const { tg, service } = flow();
		await waitForOutboxIdle(service);
		const dms = tg.calls.filter(
			(c) => c.method !== "getUpdates" && Number(c.params.chat_id) === user.id,
		);
		expect(
			dms.every((c) => c.method === "sendMessage" && !String(c.params.text).includes("/")),
		).toBe(true);
		const [row] = await service.database.query<{ n: number | string }>(
			sql`select count(*) as n from messages where customer_id = ${customerId} and author = 'support'`,
		);
		expect(Number(row?.n)).toBe(0);
	}

	return {
		...people,
		customer,
		press,
		cardShows,
		topicLine,
		generalLine,
		assigneeOf,
		assignments,
		customerSawNothing,
	};
}

describe("assignment", () => {
	const flow = useTelegramFlow({ outbox: { groupWindow: "1s" } });
	const d = desk(flow);

	test('"Take" makes the presser the assignee: callback answer, event, topic notice, card', async () => {
		const c = await d.customer("Tara");
		expect(await d.press(c.cardId, "take")).toBe("The ticket is yours.");
		await d.topicLine(c.topicId, (t) => t === "👤 Assigned to @olga_operator.");
		await d.cardShows(c.cardId, "Assignee: @olga_operator");
		expect(await d.assigneeOf(c.customerId)).toBe(OLGA.id);
		expect(await d.assignments(c.customerId)).toEqual([
			{
				kind: "ASSIGNED",
				actor: `operator:${OLGA.id}`,
				details: { operator: "@olga_operator", by: "take" },
			},
		]);
		// Pressed again: said, and nothing changes.
		expect(await d.press(c.cardId, "take")).toBe("This ticket is already yours.");
		expect(await d.assignments(c.customerId)).toHaveLength(1);
		await d.customerSawNothing(c.user, c.customerId);
	}, 20_000);

	test('two operators pressing "Take" at once: one wins, the other is told who has it, the card names the winner', async () => {
		const { tg } = flow();
		const c = await d.customer("Ugo");
		const olga = tg.pressButton(tg.groupId, c.cardId, "take", OLGA);
		const boris = tg.pressButton(tg.groupId, c.cardId, "take", BORIS);
		const answerTo = async (id: string) =>
			(
				await nextCall(
					tg,
					0,
					(call) => call.method === "answerCallbackQuery" && call.params.callback_query_id === id,
				)
			).params.text;
		const answers = [await answerTo(olga.id), await answerTo(boris.id)];
		const winner = answers[0] === "The ticket is yours." ? OLGA : BORIS;
		const loser = winner === OLGA ? 1 : 0;
		expect(answers[1 - loser]).toBe("The ticket is yours.");
		expect(answers[loser]).toBe(`@${winner.username} already has this ticket.`);
		await d.cardShows(c.cardId, `Assignee: @${winner.username}`);
		expect(await d.assigneeOf(c.customerId)).toBe(winner.id);
		expect(await d.assignments(c.customerId)).toHaveLength(1);
	}, 20_000);

	test("/assign as a reply to a colleague's message and with @username, /unassign; all in /history", async () => {
		const { tg } = flow();
		const c = await d.customer("Vera");
		expect(await d.press(c.cardId, "take")).toBe("The ticket is yours.");
		const note = tg.operatorPosts(c.topicId, "// I know this customer", { from: BORIS });
		let since = tg.calls.length;
		tg.operatorPosts(c.topicId, "/assign", { replyToMessageId: note.message_id });
		await d.topicLine(c.topicId, (t) => t === "👤 Assigned to @boris_ops.", since);
		await d.cardShows(c.cardId, "Assignee: @boris_ops");
		expect(await d.assigneeOf(c.customerId)).toBe(BORIS.id);

		since = tg.calls.length;
		tg.operatorPosts(c.topicId, "/assign @Olga_Operator", { from: BORIS });
		await d.topicLine(c.topicId, (t) => t === "👤 Assigned to @olga_operator.", since);
		await d.cardShows(c.cardId, "Assignee: @olga_operator");

		since = tg.calls.length;
		tg.operatorPosts(c.topicId, "/unassign");
		await d.topicLine(
			c.topicId,
			(t) => t === "👤 @olga_operator no longer has this ticket: nobody is assigned.",
			since,
		);
		await d.cardShows(c.cardId, "Assignee: —");
		expect(await d.assigneeOf(c.customerId)).toBeNull();
		expect((await d.assignments(c.customerId)).map((e) => [e.kind, e.details])).toEqual([
			["ASSIGNED", { operator: "@olga_operator", by: "take" }],
			["ASSIGNED", { operator: "@boris_ops", by: "assign" }],
			["ASSIGNED", { operator: "@olga_operator", by: "assign" }],
			["UNASSIGNED", { operator: "@olga_operator" }],
		]);

		since = tg.calls.length;
		tg.operatorPosts(c.topicId, "/history");
		const history = await d.topicLine(c.topicId, (t) => t.startsWith("Ticket history"), since);
		const lines = String(history.params.text).split("\n");
		expect(lines.filter((l) => l.includes("assigned"))).toEqual([
			expect.stringContaining("· assigned to @olga_operator · operator"),
			expect.stringContaining("· assigned to @boris_ops · operator"),
			expect.stringContaining("· assigned to @olga_operator · operator"),
			expect.stringContaining("· unassigned (@olga_operator) · operator"),
		]);
		await d.customerSawNothing(c.user, c.customerId);
	}, 20_000);

	test("bad /assign and /unassign are answered in the topic and change nothing", async () => {
		const { tg } = flow();
		const c = await d.customer("Wanda");
		const cases: [string, { replyToMessageId?: number } | undefined, (t: string) => boolean][] = [
			[
				"/assign @nobody_here",
				undefined,
				(t) => t.startsWith("Nobody known as @nobody_here. Known operators: "),
			],
			[
				"/assign",
				{ replyToMessageId: c.cardId },
				(t) => t.startsWith("/assign as a reply needs a colleague's message"),
			],
			["/assign", undefined, (t) => t.startsWith("To give this ticket to a colleague")],
			["/assign @@@", undefined, (t) => t.startsWith("Nobody known as @@@.")],
			["/unassign", undefined, (t) => t === "This ticket has no assignee."],
		];
		for (const [command, options, answer] of cases) {
			const since = tg.calls.length;
			tg.operatorPosts(c.topicId, command, options);
			await d.topicLine(c.topicId, answer, since);
		}
		const since = tg.calls.length;
		tg.postInGroupGeneral("/assign @olga_operator");
		await d.generalLine("/assign and /unassign work in a customer's topic.", since);
		expect(await d.assignments(c.customerId)).toEqual([]);
		expect(await d.assigneeOf(c.customerId)).toBeNull();
		await d.customerSawNothing(c.user, c.customerId);
	}, 20_000);

	test("the first operator to answer takes an unassigned ticket; a later answer by another keeps it theirs", async () => {
		const { tg } = flow();
		const c = await d.customer("Xenia");
		tg.operatorPosts(c.topicId, "Hello, Boris here", { from: BORIS });
		await d.cardShows(c.cardId, "Assignee: @boris_ops");
		expect(await d.assignments(c.customerId)).toEqual([
			{
				kind: "ASSIGNED",
				actor: `operator:${BORIS.id}`,
				details: { operator: "@boris_ops", by: "first-reply" },
			},
		]);
		tg.operatorPosts(c.topicId, "Olga adds something");
		await nextCall(
			tg,
			0,
			(call) =>
				call.method === "copyMessage" && Number(call.params.chat_id) === c.user.id && call.ok,
		);
		await waitForOutboxIdle(flow().service);
		expect(await d.assigneeOf(c.customerId)).toBe(BORIS.id);
		expect(await d.assignments(c.customerId)).toHaveLength(1);
		// An operator without a username is named by name.
		const other = await d.customer("Yusuf");
		tg.operatorPosts(other.topicId, "Bonjour", { from: NOELLE });
		await d.cardShows(other.cardId, "Assignee: Noëlle");
	}, 20_000);

	test("a closed ticket keeps its assignee; the customer writing again brings it back to them", async () => {
		const { tg } = flow();
		const c = await d.customer("Zora");
		expect(await d.press(c.cardId, "take", BORIS)).toBe("The ticket is yours.");
		expect(await d.press(c.cardId, "status:CLOSED")).toBe("Status: ✅ Closed");
		await d.cardShows(c.cardId, "Status: ✅ Closed");
		expect(await d.cardShows(c.cardId, "Assignee: @boris_ops")).toContain("Status: ✅ Closed");
		expect(await d.assigneeOf(c.customerId)).toBe(BORIS.id);
		const since = tg.calls.length;
		tg.customerSends(c.user, "it broke again");
		await d.topicLine(
			c.topicId,
			(t) => t === "The customer wrote again: the ticket is reopened. @boris_ops, it is yours.",
			since,
		);
		const card = await d.cardShows(c.cardId, "Status: 🆕 New");
		expect(card).toContain("Assignee: @boris_ops");
		expect(await d.assigneeOf(c.customerId)).toBe(BORIS.id);
	}, 20_000);

	test("merging two customers keeps the assignee of the side that had one", async () => {
		const web = await d.webCustomer("web first");
		const c = await d.customer("Mira");
		expect(await d.press(c.cardId, "take", BORIS)).toBe("The ticket is yours.");
		// The web chat's topic is older: the Telegram side merges into it, with its assignee.
		await d.linkConfirmed(web, c.user);
		await eventually(async () => (await d.assigneeOf(web.customerId)) === BORIS.id);
		await d.cardShows(web.cardId, "Assignee: @boris_ops");
		web.socket.close();
	}, 20_000);
});

describe('assignment.auto "off"', () => {
	const flow = useTelegramFlow({ outbox: { groupWindow: "1s" }, assignment: { auto: "off" } });
	const d = desk(flow);

	test("an answer leaves the ticket unassigned; Take still works", async () => {
		const { tg } = flow();
		const c = await d.customer("Aurel");
		tg.operatorPosts(c.topicId, "Answer without taking", { from: BORIS });
		await d.cardShows(c.cardId, "Status: 🛠 In progress");
		expect(await d.cardShows(c.cardId, "Assignee: —")).toBeTruthy();
		expect(await d.assignments(c.customerId)).toEqual([]);
		expect(await d.press(c.cardId, "take")).toBe("The ticket is yours.");
		await d.cardShows(c.cardId, "Assignee: @olga_operator");
	}, 20_000);
});

describe("SLA with an assignee", () => {
	const flow = useTelegramFlow({
		outbox: { groupWindow: "1s" },
		sla: { reminders: ["1s", "2s"] },
	});
	const d = desk(flow);
	const notice = (topicId: number, mark: string) => (c: ApiCall) =>
		d.inTopic(c, topicId) && String(c.params.text).startsWith(mark);
	const dmTo = (userId: number) => (c: ApiCall) =>
		c.method === "sendMessage" && Number(c.params.chat_id) === userId;

	test("reminders mention the assignee, the breach DMs them, the admins get it at the next offset", async () => {
		const { tg } = flow();
		// Both may be written to (they started the bot).
		tg.addCustomer(BORIS);
		tg.addCustomer(OLGA);
		const c = await d.customer("Bruno");
		// Boris answers first and so takes the ticket; the customer's next question starts the
		// clock again, with Boris as the assignee from its start.
		tg.operatorPosts(c.topicId, "Let me look", { from: BORIS });
		await d.cardShows(c.cardId, "Assignee: @boris_ops");
		await waitForOutboxIdle(flow().service);
		const since = tg.calls.length;
		tg.customerSends(c.user, "still broken");
		const reminder = await nextCall(tg, since, notice(c.topicId, "⏰"), 5000);
		expect(String(reminder.params.text)).toContain("@boris_ops");
		expect(String(reminder.params.text)).not.toContain("@olga_operator");
		const breach = await nextCall(tg, since, notice(c.topicId, "🚨"), 5000);
		expect(String(breach.params.text)).toContain("@boris_ops");
		expect(String(breach.params.text)).not.toContain("@olga_operator");
		const borisDm = await nextCall(tg, since, dmTo(BORIS.id), 5000);
		const link = `https://t.me/c/${String(tg.groupId).slice(4)}/${c.topicId}`;
		expect(String(borisDm.params.text)).toContain(link);
		// The admins' turn: one more step (as far after the breach as the breach after the reminder).
		const escalation = await nextCall(
			tg,
			tg.calls.indexOf(breach) + 1,
			notice(c.topicId, "🚨"),
			6000,
		);
		expect(String(escalation.params.text)).toContain("@olga_operator");
		const olgaDm = await nextCall(tg, since, dmTo(OLGA.id), 6000);
		expect(String(olgaDm.params.text)).toContain(link);
		expect(tg.calls.indexOf(olgaDm)).toBeGreaterThan(tg.calls.indexOf(borisDm));
		expect(tg.calls.indexOf(olgaDm)).toBeGreaterThan(tg.calls.indexOf(breach));
		await waitForOutboxIdle(flow().service);
		const after = tg.calls.slice(since);
		expect(after.filter(notice(c.topicId, "⏰"))).toHaveLength(1);
		expect(after.filter(notice(c.topicId, "🚨"))).toHaveLength(2);
		expect(after.filter(dmTo(BORIS.id))).toHaveLength(1);
		expect(after.filter(dmTo(OLGA.id))).toHaveLength(1);
	}, 20_000);
});
