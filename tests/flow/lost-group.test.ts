/**
 * A support group the bot can no longer write to (an admin removed it): readiness says the desk
 * is degraded, the doctor names the group, the other group's General topic is told, new
 * customers go to the other group, and the lost group's queued items end dead with the reason,
 * until the bot is back and `/retry` in that group's General topic sends them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { runCommand } from "../ops/cli.ts";
import { tempDir } from "../support/process.ts";
import { waitForOutboxIdle } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { newUser } from "../support/telegram-flow.ts";
import { placedOf, SECOND_GROUP, useGroupsFlow } from "../support/telegram-groups.ts";

const KICKED = "Forbidden: bot was kicked from the supergroup chat";

describe("a support group the bot was removed from", () => {
	const flow = useGroupsFlow({
		card: { pin: "never" },
		groups: { routes: [{ group: SECOND_GROUP, locale: "ru" }] },
	});

	/** The outbox items of this Telegram customer: kind, state and reason. */
	const itemsOf = async (telegramUserId: number) =>
		flow().service.database.query<{ kind: string; state: string; last_error: string | null }>(
			sql`select o.kind, o.state, o.last_error from outbox o
				join customers c on c.id = o.customer_id
				where c.telegram_user_id = ${telegramUserId} order by o.id`,
		);

	test("its items end dead with the reason; the desk is degraded, the other group told; /retry revives them", async () => {
		const { tg, service, groups } = flow();
		const ivan = newUser("Ivan", { language_code: "ru" });
		tg.customerSends(ivan, "Здравствуйте");
		const place = await placedOf(service, ivan.id);
		expect(place.groupId).toBe(SECOND_GROUP);
		await waitForOutboxIdle(service);

		// Removed without the bot hearing of it: the next delivery finds out.
		tg.setBotInForum(SECOND_GROUP, false, { silently: true });
		tg.customerSends(ivan, "Вы здесь?");
		await tg.waitForCall((c) => c.method === "copyMessage" && c.errorCode === 403);
		await waitForOutboxIdle(service);
		tg.customerSends(ivan, "Алло?");
		await tg.waitForUpdateConfirmed();
		await waitForOutboxIdle(service);
		const dead = (await itemsOf(ivan.id)).filter((item) => item.state === "dead");
		expect(dead).toHaveLength(2);
		// Both with the reason, not announced in a topic no one can write to; the second was not
		// even tried: the group was known to be lost.
		const reason = `support group ${SECOND_GROUP} is unreachable: ${KICKED}`;
		expect(dead).toEqual([
			{ kind: "topic_message", state: "dead", last_error: reason },
			{ kind: "topic_message", state: "dead", last_error: reason },
		]);
		expect(tg.calls.filter((c) => c.method === "copyMessage" && !c.ok)).toHaveLength(1);

		// The other group's General topic is told.
		const notice = await tg.waitForCall(
			(c) =>
				c.method === "sendMessage" &&
				Number(c.params.chat_id) === groups[0] &&
				String(c.params.text).includes(`can no longer write to the support group ${SECOND_GROUP}`),
		);
		expect(notice.params.message_thread_id).toBeUndefined();

		// Readiness: still ready (one group works), the lost one named.
		const ready = await fetch(`${service.url}/health/ready`);
		expect(ready.status).toBe(200);
		const body = (await ready.json()) as { data: { checks: Record<string, unknown> } };
		expect(body.data.checks.groups).toEqual({
			ok: true,
			detail: `degraded: 1 of 2 unreachable: ${SECOND_GROUP} (${KICKED})`,
		});

		// A new customer the rule would send there goes to the group that works.
		const masha = newUser("Masha", { language_code: "ru" });
		tg.customerSends(masha, "Добрый день");
		const hers = await placedOf(service, masha.id);
		expect(hers.groupId).toBeNull();
		expect(tg.topicsIn(groups[0])).toContain(Number(hers.topicId));

		// The bot is back; /retry in that group's General topic sends what waited, in order.
		tg.setBotInForum(SECOND_GROUP, true);
		const since = tg.calls.length;
		tg.postInGroupGeneral("/retry", { chatId: SECOND_GROUP });
		const answer = await tg.waitForCall(
			(c) => Number(c.params.chat_id) === SECOND_GROUP && c.params.text === "Queued again: 2.",
			{ since },
		);
		expect(answer.params.message_thread_id).toBeUndefined();
		await waitForOutboxIdle(service);
		const copies = tg.calls
			.slice(since)
			.filter(
				(c) => c.method === "copyMessage" && c.ok && Number(c.params.chat_id) === SECOND_GROUP,
			);
		expect(copies.map((c) => c.params.message_thread_id)).toEqual([place.topicId, place.topicId]);
		expect((await itemsOf(ivan.id)).map((item) => item.state)).not.toContain("dead");
		const back = await tg.waitForCall(
			(c) =>
				Number(c.params.chat_id) === groups[0] &&
				String(c.params.text).includes(`can write to the support group ${SECOND_GROUP} again`),
			{ since },
		);
		expect(back.ok).toBe(true);
		const again = (await (await fetch(`${service.url}/health/ready`)).json()) as {
			data: { checks: Record<string, unknown> };
		};
		expect(again.data.checks.groups).toEqual({ ok: true, detail: "2 writable" });
	}, 30_000);

	test("removed with the update Telegram sends: lost at once, before any delivery", async () => {
		const { tg, service, groups } = flow();
		const since = tg.calls.length;
		tg.setBotInForum(SECOND_GROUP, false);
		await tg.waitForUpdateConfirmed();
		const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
			data: { checks: Record<string, unknown> };
		};
		expect(ready.data.checks.groups).toEqual({
			ok: true,
			detail: `degraded: 1 of 2 unreachable: ${SECOND_GROUP} (the bot was removed from the group (left))`,
		});
		await tg.waitForCall(
			(c) =>
				Number(c.params.chat_id) === groups[0] &&
				String(c.params.text).includes(`can no longer write to the support group ${SECOND_GROUP}`),
			{ since },
		);
		// Added back (Telegram says so): writable again, and the other group is told.
		tg.setBotInForum(SECOND_GROUP, true);
		await tg.waitForCall(
			(c) =>
				Number(c.params.chat_id) === groups[0] &&
				String(c.params.text).includes(`can write to the support group ${SECOND_GROUP} again`),
			{ since },
		);
		expect(tg.calls.slice(since).filter((c) => Number(c.params.chat_id) === SECOND_GROUP)).toEqual(
			[],
		);
	}, 30_000);
});

describe("topicdesk doctor with several groups", () => {
	let tg: TelegramDouble;
	beforeAll(() => {
		tg = startTelegramDouble({ groupTitle: "Acme Support" });
		tg.addForum(SECOND_GROUP, "Acme Russian");
	});
	afterAll(() => tg.close());

	const doctor = () =>
		runCommand(["doctor"], {
			BOT_TOKEN: tg.token,
			SUPPORT_GROUP_ID: `${tg.groupId},${SECOND_GROUP}`,
			TELEGRAM_API_URL: tg.url,
			DATA_DIR: tempDir("td-doctor-"),
		});

	test("checks each group: both well set up", async () => {
		const result = await doctor();
		expect(result.stdout).toContain(`✓ The bot is in group Acme Support (${tg.groupId})`);
		expect(result.stdout).toContain(`✓ The bot is in group Acme Russian (${SECOND_GROUP})`);
		expect(result.stdout).toContain("✓ Acme Russian is a forum (Topics on)");
		expect(result.code).toBe(0);
	}, 30_000);

	test("a group the bot was removed from: ✗ for that group, exit 1", async () => {
		tg.setBotInForum(SECOND_GROUP, false);
		const result = await doctor();
		tg.setBotInForum(SECOND_GROUP, true);
		expect(result.code).toBe(1);
		expect(result.stdout).toContain(`✓ The bot is in group Acme Support (${tg.groupId})`);
		expect(result.stdout).toContain(`✗ The bot is in group ${SECOND_GROUP}`);
		expect(result.stdout.trim().split("\n").at(-1)).toBe("doctor: some checks failed");
	}, 30_000);
});
