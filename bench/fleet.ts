/**
 * A fleet of socket-holding child processes (bench/fleet-child.ts). One process can hold only
 * as many sockets as its open-files limit allows, so tens of thousands of client sockets are
 * spread over several processes, each driven over IPC.
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";

export type FleetCommand =
	| { type: "open"; url: string; sessionIds: string[]; perSession: number }
	/** Socket 0 of each session sends one message, `perSecond` sessions a second. */
	| { type: "broadcast"; tag: string; perSecond: number; timeoutMs: number }
	| { type: "close" };

export type FleetReply =
	| { type: "opened"; sockets: number }
	| { type: "delivered"; latencies: number[]; expected: number; errorFrames: number }
	| { type: "closed" }
	| { type: "failed"; error: string };

export interface FleetMember {
	pid: number;
	request(command: FleetCommand): Promise<FleetReply>;
	kill(): void;
}

const CHILD = resolve(import.meta.dir, "fleet-child.ts");

function startMember(): FleetMember {
	let waiting: ((reply: FleetReply) => void) | undefined;
	const proc: Subprocess = Bun.spawn(["bun", CHILD], {
		stdio: ["ignore", "inherit", "inherit"],
		ipc(message) {
			const resolveReply = waiting;
			waiting = undefined;
			resolveReply?.(message as FleetReply);
		},
	});
	return {
		pid: proc.pid,
		request(command) {
			if (waiting) throw new Error("one fleet command at a time");
			const reply = new Promise<FleetReply>((done, fail) => {
				waiting = done;
				proc.exited.then((code) => fail(new Error(`fleet child exited with ${code}`)));
			});
			proc.send(command);
			return reply.then((answer) => {
				if (answer.type === "failed") throw new Error(`fleet child: ${answer.error}`);
				return answer;
			});
		},
		kill: () => proc.kill(),
	};
}

export function startFleet(size: number): FleetMember[] {
	return Array.from({ length: size }, startMember);
}

/** Splits a list into `parts` nearly equal consecutive slices. */
export function slices<T>(items: readonly T[], parts: number): T[][] {
	const size = Math.ceil(items.length / parts);
	return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size));
}
