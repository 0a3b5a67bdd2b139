import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";
import { socketMarker } from "./support/settle.ts";
import { connectSocket, initSession } from "./support/web-client.ts";

let db: TestDatabase;
let service: RunningService;

beforeAll(async () => {
	db = await freshDatabase();
	// Second-scale keep-alive timers from the config file, so a test sees pings and idle closes.
	service = await startTestService({ db, configFile: { ws: { ping: "300ms", idle: "1200ms" } } });
});
afterAll(async () => {
	await service?.stop();
	await db?.drop();
});

describe("WebSocket protocol", () => {
	test("every socket of a customer gets every message; another customer's sockets get none", async () => {
		const { sessionId } = await initSession(service.url);
		const other = await initSession(service.url);
		const tabs = [1, 2, 3].map(() => connectSocket(service.url, `?session=${sessionId}`));
		const stranger = connectSocket(service.url, `?session=${other.sessionId}`);
		for (const tab of [...tabs, stranger]) await tab.next("connected");
		tabs[0]?.send({ type: "message", text: "from tab one" });
		for (const tab of tabs) expect((await tab.next("message")).data.text).toBe("from tab one");
		// The stranger's own later message arrives after anything published to it before.
		const before = await socketMarker(stranger);
		expect(before.filter((f) => f.type === "message")).toEqual([]);
		for (const s of [...tabs, stranger]) s.close();
	});

	test("connected carries the session, the status, the last seq and whether the desk is open", async () => {
		const { sessionId } = await initSession(service.url);
		const first = connectSocket(service.url, `?session=${sessionId}`);
		expect((await first.next()).data).toEqual({
			sessionId,
			ticketStatus: "NEW",
			unreadCount: 0,
			lastSeq: 0,
			availability: { open: true },
		});
		first.send({ type: "message", text: "x" });
		const seq = (await first.next("message")).data.seq;
		const second = connectSocket(service.url, `?session=${sessionId}`);
		expect((await second.next()).data.lastSeq).toBe(seq);
		first.close();
		second.close();
	});

	test("frames sent right after opening are handled in order after connected", async () => {
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		for (let i = 1; i <= 5; i++) socket.send({ type: "message", text: `m${i}` });
		expect((await socket.next()).type).toBe("connected");
		const texts: unknown[] = [];
		for (let i = 1; i <= 5; i++) texts.push((await socket.next("message")).data.text);
		expect(texts).toEqual(["m1", "m2", "m3", "m4", "m5"]);
		socket.close();
	});

	test("the eleventh socket of a customer closes the oldest with 4008", async () => {
		const { sessionId } = await initSession(service.url);
		const sockets = [];
		for (let i = 0; i < 11; i++) {
			const socket = connectSocket(service.url, `?session=${sessionId}`);
			await socket.next("connected");
			sockets.push(socket);
		}
		expect((await sockets[0]?.closed)?.code).toBe(4008);
		for (const socket of sockets.slice(1)) socket.close();
	});

	test("pings arrive; a socket that answers stays, a silent one is closed 1000 Inactive", async () => {
		const { sessionId } = await initSession(service.url);
		// The talker opens first: the sweep must still find the silent one behind it.
		const talker = connectSocket(service.url, `?session=${sessionId}`);
		await talker.next("connected");
		const silent = connectSocket(service.url, `?session=${sessionId}`);
		await silent.next("connected");
		const answering = setInterval(() => talker.send({ type: "pong" }), 200);
		const ping = await talker.next("ping");
		expect(typeof ping.data.timestamp).toBe("number");
		expect(await silent.closed).toEqual({ code: 1000, reason: "Inactive" });
		expect(talker.ws.readyState).toBe(WebSocket.OPEN);
		clearInterval(answering);
		talker.close();
	});
});
