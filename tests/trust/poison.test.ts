/**
 * A poisoned update never stops intake: an update whose effects the
 * database keeps refusing is retried a few times, then recorded in `failed_updates` with its
 * reason, logged, counted in /metrics, announced in the support group's General topic, and
 * acknowledged, while other chats keep flowing. Timers likewise: one failing timer never blocks
 * the others; it is retried and, after repeated failure, parked with its reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import { telegramCustomers } from "../support/telegram-customers.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser, nextCall, type TelegramFlow } from "../support/telegram-flow.ts";

const METRICS_TOKEN = "metrics-token-for-poison-tests";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
const lines: string[] = [];
const flow = () => ({ db, tg, service, stop: async () => {} }) as TelegramFlow;
const h = telegramCustomers(flow);

beforeAll(async () => {
	db = await freshDatabase();
	tg = startTelegramDouble();
	const loaded = loadConfig(
		testEnv({
			db,
			double: tg,
			env: { METRICS_TOKEN },
			configFile: { sla: { reminders: ["1s", "1h"] }, outbox: { groupWindow: "1s" } },
		}),
	);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	const log = createLogger({ level: "debug", json: true, write: (line) => lines.push(line) });
	service = await startService(loaded.config, { pglite: db.pglite, log });
}, 20_000);

afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
}, 20_000);

/** A private-chat update the database refuses: Telegram message ids are stored as integers. */
function poisonFrom(user: ReturnType<typeof newUser>) {
	return tg.pushUpdate({
		message: {
			message_id: 3_000_000_000,
			date: Math.floor(Date.now() / 1000),
			chat: { id: user.id, type: "private", first_name: user.first_name },
			from: { ...user, is_bot: false },
			text: "a message with an id too large to store",
		},
	} as never);
}

describe("a poisoned update", () => {
	test("is retried, set aside with its reason, announced in General and skipped; other chats keep flowing", async () => {
		const bea = newUser("Bea", { username: "bea_ok" });
		const customer = await h.telegramCustomer(bea, "Bea's first question");
		const pat = newUser("Pat", { username: "pat_poison" });
		const since = tg.calls.length;
		const poison = poisonFrom(pat);
		const others = ["Bea goes on 1", "Bea goes on 2", "Bea goes on 3"].map((text) =>
			tg.customerSends(bea, text),
		);

		// Bea's messages all reach her topic.
		for (const sent of others)
			await nextCall(
				tg,
				since,
				(c) =>
					c.method === "copyMessage" &&
					c.ok &&
					Number(c.params.from_chat_id) === bea.id &&
					Number(c.params.message_id) === sent.message_id &&
					Number(c.params.message_thread_id) === customer.topicId,
				10_000,
			);

		// The notice in the General topic: the group, no thread.
		const notice = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.chat_id) === tg.groupId &&
				c.params.message_thread_id === undefined &&
				String(c.params.text).includes(`update ${poison.update_id}`),
			10_000,
		);
		expect(String(notice.params.text)).toContain("could not be processed");
		expect(String(notice.params.text)).toContain("SQLSTATE 22003");
		expect(String(notice.params.text)).toContain(`chat ${pat.id}`);

		const [failed] = await service.database.query<{ reason: string; attempts: number }>(
			sql`select reason, attempts from failed_updates where update_id = ${poison.update_id}`,
		);
		expect(failed?.reason).toContain("SQLSTATE 22003");
		expect(Number(failed?.attempts)).toBe(4);
		// Its effects were rolled back whole: no customer for Pat.
		const [pats] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from customers where telegram_user_id = ${pat.id}`,
		);
		expect(Number(pats?.n)).toBe(0);
		// The poller moved past it: the update is confirmed, not redelivered.
		await eventually(() => !tg.pendingUpdates.some((u) => u.update_id === poison.update_id));
		// Visible in the logs (without the update's text) and in /metrics.
		const logged = lines.filter((l) => l.includes("telegram.update_failed"));
		expect(logged.some((l) => l.includes(String(poison.update_id)))).toBe(true);
		expect(lines.some((l) => l.includes("too large to store"))).toBe(false);
		const metrics = await fetch(`${service.url}/metrics`, {
			headers: { authorization: `Bearer ${METRICS_TOKEN}` },
		});
		expect(metrics.status).toBe(200);
		expect(await metrics.text()).toContain("topicdesk_telegram_updates_set_aside 1");

		// A redelivery of the same update changes nothing: it counts as applied.
		const again = tg.calls.length;
		tg.customerSends(bea, "Bea after the poison");
		await nextCall(
			tg,
			again,
			(c) => c.method === "copyMessage" && c.ok && Number(c.params.from_chat_id) === bea.id,
		);
	}, 30_000);
});

describe("a failing timer", () => {
	test("never blocks the others; it is retried and then parked with its reason", async () => {
		const failing = await h.webCustomer("My reminder will fail");
		const fine = await h.webCustomer("My reminder will work");
		// An injected fault: the database refuses the failing customer's SLA reminder.
		await service.database.query(
			sql.raw(`
			create or replace function reject_reminder() returns trigger language plpgsql as $$
			begin
				if new.kind = 'sla_reminder' and new.customer_id = '${failing.customerId}' then
					raise exception 'injected fault';
				end if;
				return new;
			end $$`),
		);
		await service.database.query(
			sql.raw(`create trigger reject_reminder before insert on outbox
				for each row execute function reject_reminder()`),
		);
		try {
			const since = tg.calls.length;
			const reminder = await nextCall(
				tg,
				since,
				(c) =>
					c.method === "sendMessage" &&
					c.ok &&
					Number(c.params.message_thread_id) === fine.topicId &&
					String(c.params.text).startsWith("⏰"),
				10_000,
			);
			expect(reminder.ok).toBe(true);
			const parked = await eventually(async () => {
				const [row] = await service.database.query<{
					attempts: number;
					last_error: string | null;
					parked_at: Date | null;
				}>(
					sql`select attempts, last_error, parked_at from timers
						where customer_id = ${failing.customerId} and kind = 'sla'`,
				);
				return row?.parked_at ? row : undefined;
			}, 15_000);
			expect(Number(parked.attempts)).toBe(5);
			expect(parked.last_error).toContain("SQLSTATE P0001");
			expect(
				tg.calls.some(
					(c) =>
						c.method === "sendMessage" &&
						Number(c.params.message_thread_id) === failing.topicId &&
						String(c.params.text).startsWith("⏰"),
				),
			).toBe(false);
			expect(lines.some((l) => l.includes("timer.parked"))).toBe(true);
			const metrics = await fetch(`${service.url}/metrics`, {
				headers: { authorization: `Bearer ${METRICS_TOKEN}` },
			});
			expect(await metrics.text()).toContain('topicdesk_timers_parked{kind="sla"} 1');
		} finally {
			await service.database.query(sql.raw("drop trigger reject_reminder on outbox"));
		}
	}, 30_000);
});
