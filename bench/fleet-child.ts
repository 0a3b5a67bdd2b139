/**
 * One member of the socket fleet (bench/fleet.ts): holds WebSockets for a slice of the sessions
 * and answers the parent's commands over IPC. Latencies are measured here, on this process's
 * clock, from the moment a message leaves socket 0 of a session to its arrival on each socket
 * of that session.
 */
import type { SocketClient } from "../tests/support/web-client.ts";
import type { FleetCommand, FleetReply } from "./fleet.ts";
import { now, paced, until } from "./support/clock.ts";
import { closeSockets, onFrame, openSockets } from "./support/web.ts";

let groups: SocketClient[][] = [];

async function broadcast(tag: string, perSecond: number, timeoutMs: number): Promise<FleetReply> {
	const sentAt = new Float64Array(groups.length);
	const latencies: number[] = [];
	let errorFrames = 0;
	const expected = groups.reduce((sum, sockets) => sum + sockets.length, 0);
	groups.forEach((sockets, session) => {
		const clientMessageId = `${tag}-${session}`;
		for (const client of sockets) {
			onFrame(client, (frame, at) => {
				if (frame.type === "error") errorFrames++;
				else if (frame.type === "message" && frame.data.clientMessageId === clientMessageId)
					latencies.push(at - (sentAt[session] as number));
			});
		}
	});
	await paced(groups.length, perSecond, (session) => {
		sentAt[session] = now();
		groups[session]?.[0]?.send({
			type: "message",
			text: `${tag} ${session}`,
			clientMessageId: `${tag}-${session}`,
		});
	});
	await until(() => latencies.length >= expected, timeoutMs);
	return { type: "delivered", latencies, expected, errorFrames };
}

async function handle(command: FleetCommand): Promise<FleetReply> {
	switch (command.type) {
		case "open":
			groups = await openSockets(command.url, command.sessionIds, command.perSession, 100);
			return { type: "opened", sockets: groups.flat().length };
		case "broadcast":
			return broadcast(command.tag, command.perSecond, command.timeoutMs);
		case "close":
			await closeSockets(groups.flat());
			groups = [];
			return { type: "closed" };
	}
}

process.on("message", (command: FleetCommand) => {
	handle(command)
		.then(
			(reply) => process.send?.(reply),
			(error: unknown) => process.send?.({ type: "failed", error: String(error) }),
		)
		// The IPC channel keeps this process alive; after `close` it has nothing left to do.
		.then(() => command.type === "close" && setTimeout(() => process.exit(0), 50));
});
