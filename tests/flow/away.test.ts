/**
 * The away message and the desk's availability. Outside business hours a customer whose message
 * opens or reopens a conversation gets one automatic reply in the channel they wrote from, naming
 * the next opening; the topic notes it; a second message in the same closed period gets nothing;
 * the next closed period answers again; status and SLA clock are untouched. `bot-info` and the
 * `connected` frame say whether the desk is open and when it opens.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { telegramCustomers } from "../support/telegram-customers.ts";
import { newUser, nextCall, type TelegramFlow, useTelegramFlow } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const today = new Date();
/** Open around the clock on every day but today (UTC): closed now, open at midnight. */
const closedToday = Object.fromEntries(
	DAYS.filter((_, i) => i !== today.getUTCDay()).map((day) => [day, ["00:00", "23:59"]]),
);
const tomorrow = new Date(
	Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1),
);
const weekday = new Intl.DateTimeFormat("en", { weekday: "long", timeZone: "UTC" }).format(
	tomorrow,
);
const AWAY = `Thanks for your message! We're away right now and back ${weekday} 00:00 (UTC). We'll answer as soon as we're back.`;

function awayTexts(flow: () => TelegramFlow, customerId: string) {
	return flow().service.database.query<{ text: string }>(
		sql`select text from messages where customer_id = ${customerId} and author = 'system'
			and text like 'Thanks for your message!%'`,
	);
}

describe("outside business hours", () => {
	const flow = useTelegramFlow({ businessHours: { timeZone: "UTC", week: closedToday } });
	const customers = telegramCustomers(flow);

	test("a web visitor's first message gets the away reply once in this closed period; status and SLA stay", async () => {
		const { tg, service } = flow();
		const since = tg.calls.length;
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		const hello = await socket.next("connected");
		expect(hello.data.availability).toEqual({ open: false, opensAt: tomorrow.toISOString() });
		socket.send({ type: "message", text: "Is anyone there?" });
		const away = await socket.next((f) => f.type === "message" && f.data.from === "system");
		expect(away.data.text).toBe(AWAY);
		const notice = await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && String(c.params.text).startsWith("🌙"),
		);
		expect(notice.params.text).toBe(
			`🌙 Outside business hours: the customer was told we're back ${weekday} 00:00 (UTC).`,
		);

		// A second message in the same closed period: its copy lands, no second away reply.
		socket.send({ type: "message", text: "Hello again" });
		await nextCall(tg, since, (c) => String(c.params.text ?? "").includes("Hello again"));
		const customerId = await customers.customerOfSession(sessionId);
		expect(await awayTexts(flow, customerId)).toHaveLength(1);
		const [row] = await service.database.query<{ status: string; sla: number }>(
			sql`select c.status, (select count(*)::int from timers t
				where t.customer_id = c.id and t.kind = 'sla') as sla
				from customers c where c.id = ${customerId}`,
		);
		expect(row).toEqual({ status: "NEW", sla: 1 });
		socket.close();
	});

	test("a Telegram customer gets it in the private chat", async () => {
		const { tg } = flow();
		const user = newUser("Nina");
		const since = tg.calls.length;
		tg.customerSends(user, "Night question");
		const dm = await nextCall(tg, since, (c) => customers.inDm(c, user.id, AWAY));
		expect(dm.params.text).toBe(AWAY);
	});

	test("a reopening in the next closed period is answered again", async () => {
		const { tg, service } = flow();
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		socket.send({ type: "message", text: "First night" });
		await socket.next((f) => f.type === "message" && f.data.from === "system");
		const customerId = await customers.customerOfSession(sessionId);
		// The reply above belongs to a period that has ended (as after a working day).
		await service.database.query(
			sql`update ticket_events set details = '{"opensAt": "2000-01-01T09:00:00.000Z"}'
				where customer_id = ${customerId} and kind = 'AWAY'`,
		);
		socket.send({ type: "close", resolved: true });
		await socket.next((f) => f.type === "status" && f.data.status === "CLOSED");
		const since = tg.calls.length;
		socket.send({ type: "message", text: "Second night, reopening" });
		const again = await socket.next(
			(f) => f.type === "message" && f.data.from === "system" && f.data.text === AWAY,
		);
		expect(again.data.text).toBe(AWAY);
		await nextCall(tg, since, (c) => String(c.params.text ?? "").startsWith("🌙"));
		expect(await awayTexts(flow, customerId)).toHaveLength(2);
		socket.close();
	});

	test("bot-info says the desk is closed and when it opens", async () => {
		const info = await api<Envelope<{ availability: unknown }>>(
			flow().service.url,
			"GET",
			"/api/chat/bot-info",
		);
		expect(info.body.data.availability).toEqual({ open: false, opensAt: tomorrow.toISOString() });
	});
});

describe("inside business hours", () => {
	const everyDay = Object.fromEntries(DAYS.map((day) => [day, ["00:00", "23:59"]]));
	const flow = useTelegramFlow({ businessHours: { timeZone: "UTC", week: everyDay } });
	const customers = telegramCustomers(flow);

	test("no away reply; the desk says it is open", async () => {
		const { tg, service } = flow();
		const since = tg.calls.length;
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		const hello = await socket.next("connected");
		expect(hello.data.availability).toEqual({ open: true });
		socket.send({ type: "message", text: "Daytime question" });
		await nextCall(tg, since, (c) => String(c.params.text ?? "").includes("Daytime question"));
		expect(await awayTexts(flow, await customers.customerOfSession(sessionId))).toHaveLength(0);
		expect(tg.calls.slice(since).some((c) => String(c.params.text ?? "").startsWith("🌙"))).toBe(
			false,
		);
		socket.close();
	});
});
