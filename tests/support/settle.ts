/**
 * Observable ends for tests that assert something did NOT happen: instead of sleeping and then
 * counting, wait until the work that could have caused it is provably over (the outbox has
 * nothing left to send, the timers are in their final state, a later marker arrived), then assert.
 * For "the Telegram update was processed" see `TelegramDouble.waitForUpdateConfirmed`.
 *
 * The test helpers' waits (here, the double's, the socket client's, the browser widget's) default
 * to 10 s: a wait ends as soon as what it waits for happens, so its bound costs nothing when the
 * code works, and a CI machine slowed by its neighbours should not fail a test that is right.
 */
import { sql } from "drizzle-orm";
import type { RunningService } from "../../src/service.ts";
import type { Frame, SocketClient } from "./web-client.ts";

type WithDatabase = Pick<RunningService, "database">;

/** Polls `check` until it returns a value (then returns it), or fails after `timeoutMs`. */
export async function until<T>(
	what: string,
	check: () => Promise<T | undefined>,
	timeoutMs: number,
	describe?: () => Promise<string>,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline)
			throw new Error(
				`${what}: not within ${timeoutMs} ms${describe ? `; ${await describe()}` : ""}`,
			);
		await Bun.sleep(20);
	}
}

/**
 * Resolves once no outbox item is pending (every one delivered or dead), or only the given
 * customer's: nothing more will be sent for what was enqueued so far. An item in flight is still
 * pending, so its Bot API call has been answered (and recorded by the double) when this resolves.
 */
export async function waitForOutboxIdle(
	service: WithDatabase,
	options: { customerId?: string; timeoutMs?: number } = {},
): Promise<void> {
	const pending = async () => {
		const [row] = await service.database.query<{ n: number }>(
			options.customerId
				? sql`select count(*)::int as n from outbox
						where state = 'pending' and customer_id = ${options.customerId}`
				: sql`select count(*)::int as n from outbox where state = 'pending'`,
		);
		return Number(row?.n);
	};
	await until(
		"outbox idle",
		async () => ((await pending()) === 0 ? true : undefined),
		options.timeoutMs ?? 10_000,
		async () => `${await pending()} item(s) still pending`,
	);
}

export interface TimerView {
	customerId: string;
	telegramUserId: number | null;
	kind: string;
	step: number;
	parked: boolean;
}

/** The timers table, with each timer's customer's Telegram user id. */
export async function timerRows(service: WithDatabase): Promise<TimerView[]> {
	const rows = await service.database.query<{
		customer_id: string;
		telegram_user_id: number | string | null;
		kind: string;
		step: number;
		parked_at: unknown;
	}>(
		sql`select t.customer_id, c.telegram_user_id, t.kind, t.step, t.parked_at
			from timers t join customers c on c.id = t.customer_id order by t.customer_id, t.kind`,
	);
	return rows.map((row) => ({
		customerId: row.customer_id,
		telegramUserId: row.telegram_user_id == null ? null : Number(row.telegram_user_id),
		kind: row.kind,
		step: Number(row.step),
		parked: row.parked_at != null,
	}));
}

/**
 * Resolves with the timers once `predicate` holds for them, e.g. "this customer has no SLA timer
 * left" (it fired its last step or was disarmed): no timer can fire for it afterwards.
 */
export async function waitForTimers(
	service: WithDatabase,
	predicate: (rows: TimerView[]) => boolean,
	timeoutMs = 10_000,
): Promise<TimerView[]> {
	return until(
		"timers in the expected state",
		async () => {
			const rows = await timerRows(service);
			return predicate(rows) ? rows : undefined;
		},
		timeoutMs,
		async () => `timers: ${JSON.stringify(await timerRows(service))}`,
	);
}

let markers = 0;

/**
 * Sends a message with a unique marker text on the socket and waits for its echo. The echo goes
 * through the customer's event stream after everything committed before it, so every frame for
 * this customer published earlier has arrived by then. Returns the frames received before the
 * echo (the marker itself excluded).
 */
export async function socketMarker(socket: SocketClient, timeoutMs = 10_000): Promise<Frame[]> {
	markers += 1;
	const text = `marker ${markers} ${crypto.randomUUID().slice(0, 8)}`;
	socket.send({ type: "message", text });
	const echo = await socket.next((f) => f.type === "message" && f.data.text === text, timeoutMs);
	return socket.frames.slice(0, socket.frames.indexOf(echo));
}
