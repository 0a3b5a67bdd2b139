/**
 * An instance alone on its PostgreSQL announces no events (pg-bus.ts): nobody would hear them
 * but itself. As soon as another instance listens (it says hello) it announces every event, and
 * once that instance says goodbye it stops again. A spy LISTENs on the channel under a name that does
 * not count as an instance; a marker NOTIFY sent after a message has landed in its topic is the
 * observable end before asserting that no event was announced.
 *
 * On embedded PGlite there is no channel: the bus is in-process.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { EVENTS_CHANNEL, LISTENER_NAME } from "../../src/realtime/pg-bus.ts";
import type { RunningService } from "../../src/service.ts";
import {
	createPostgresDatabase,
	dropPostgresDatabase,
	freshDatabase,
	onPostgres,
} from "../support/db.ts";
import { startTestService } from "../support/service.ts";
import { until, waitForOutboxIdle } from "../support/settle.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { connectSocket, initSession, type SocketClient } from "../support/web-client.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function eventsDetail(service: RunningService) {
	const body = (await (await fetch(`${service.url}/health/ready`)).json()) as {
		data: { checks: { events: { detail: string } } };
	};
	return body.data.checks.events.detail;
}

const client = (url: string, name: string) =>
	postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: name } });

type Notice = { from?: string; customerId?: string; event?: { message?: { text?: string } } };

/** Sends a message from the widget and waits until its copy is in the topic. */
async function sendAndLand(
	tg: TelegramDouble,
	service: RunningService,
	socket: SocketClient,
	text: string,
) {
	socket.send({ type: "message", text });
	await socket.next((f) => f.type === "message" && f.data.text === text);
	await tg.waitForCall((c) => c.ok && c.method === "sendMessage" && showsText(c, `[WEB] ${text}`), {
		timeoutMs: 10_000,
	});
	await waitForOutboxIdle(service);
}

describe("events are announced only when another instance listens", () => {
	test("alone: nothing announced; a peer says hello: announced; the peer leaves: quiet again", async () => {
		const tg = startTelegramDouble();
		cleanups.push(() => tg.close());
		if (!onPostgres) {
			const only = await startTestService({ db: await freshDatabase(), double: tg });
			cleanups.push(() => only.stop());
			expect(await eventsDetail(only)).toBe("in-process");
			return;
		}
		const url = await createPostgresDatabase();
		cleanups.push(() => dropPostgresDatabase(url));
		const spy = client(url, "bus-spy");
		cleanups.push(() => spy.end());
		const heard: Notice[] = [];
		await spy.listen(EVENTS_CHANNEL, (payload) => heard.push(JSON.parse(payload) as Notice));
		const service = await startTestService({
			db: { url, engine: "postgres", drop: async () => {} },
			double: tg,
		});
		cleanups.push(() => service.stop());
		expect(await eventsDetail(service)).toBe("listen/notify (alone)");

		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		cleanups.push(async () => socket.close());
		await socket.next("connected");
		let markers = 0;
		/** Everything announced before this NOTIFY has reached the spy when it returns. */
		const marker = async () => {
			const n = ++markers;
			await spy`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ from: "marker", n })})`;
			await until(
				"the marker",
				async () =>
					heard.some((h) => h.from === "marker" && (h as { n?: number }).n === n)
						? true
						: undefined,
				5000,
			);
		};
		const announced = (text: string) => heard.filter((h) => h.event?.message?.text === text);

		await sendAndLand(tg, service, socket, "first, alone");
		await marker();
		expect(announced("first, alone")).toEqual([]);

		// Another instance starts listening and says hello, as a real one does.
		const peer = client(url, LISTENER_NAME);
		await peer.listen(EVENTS_CHANNEL, () => {});
		await peer`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ from: "peer", hello: true })})`;
		await until(
			"announcing",
			async () => ((await eventsDetail(service)) === "listen/notify" ? true : undefined),
			5000,
		);
		await sendAndLand(tg, service, socket, "second, with a peer");
		await until(
			"the announced event",
			async () => (announced("second, with a peer").length > 0 ? true : undefined),
			5000,
		);
		expect(announced("second, with a peer")).toHaveLength(1);

		// The peer leaves and says goodbye, as a real one does: the instance counts again at once
		// (the periodic count, a minute apart, is only for an instance that died without a word).
		await peer.end();
		await spy`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ from: "peer", bye: true })})`;
		await until(
			"alone again",
			async () => ((await eventsDetail(service)) === "listen/notify (alone)" ? true : undefined),
			5000,
		);
		await sendAndLand(tg, service, socket, "third, alone again");
		await marker();
		expect(announced("third, alone again")).toEqual([]);
	}, 60_000);
});
