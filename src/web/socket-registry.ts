/**
 * The live sockets of this instance, by customer: enforces the per-customer cap (the oldest socket
 * is closed with 4008), closes sockets that sent nothing for `idleMs` (1000 "Inactive") and sends
 * the keep-alive `ping` to every socket with one native publish.
 */
import { encodeFrame } from "./frames.ts";

/** The part of a Bun/Elysia socket the registry needs. */
export interface LiveSocket {
	close(code?: number, reason?: string): void;
	subscribe(topic: string): void;
	unsubscribe(topic: string): void;
}

export const MAX_SOCKETS_PER_CUSTOMER = 10;
export const PING_TOPIC = "ping";

interface Entry {
	customerId: string;
	lastSeen: number;
}

export interface SocketRegistry {
	add(socket: LiveSocket, customerId: string): void;
	remove(socket: LiveSocket): void;
	/** A frame arrived from this socket: it is not idle. */
	touch(socket: LiveSocket): void;
	count(): number;
	/**
	 * The customer's sockets now belong to another customer (a merge): they are moved over and
	 * returned, so the caller can switch their subscriptions and session state.
	 */
	move(from: string, to: string): LiveSocket[];
	stop(): void;
}

export function createSocketRegistry(options: {
	idleMs: number;
	pingMs: number;
	publish: (topic: string, frame: string) => void;
	maxPerCustomer?: number;
}): SocketRegistry {
	const max = options.maxPerCustomer ?? MAX_SOCKETS_PER_CUSTOMER;
	const entries = new Map<LiveSocket, Entry>();
	// A customer's sockets, oldest first: the socket itself while it is the only one (the common
	// case, and a Set per idle customer would cost more than the socket's own state).
	const byCustomer = new Map<string, LiveSocket | LiveSocket[]>();
	const socketsOf = (customerId: string): LiveSocket[] => {
		const own = byCustomer.get(customerId);
		return own === undefined ? [] : Array.isArray(own) ? own : [own];
	};
	const setSockets = (customerId: string, own: LiveSocket[]) => {
		if (own.length === 0) byCustomer.delete(customerId);
		else byCustomer.set(customerId, own.length === 1 ? (own[0] as LiveSocket) : own);
	};

	// `entries` is kept in order of last activity (a touch moves its socket to the end), so a
	// sweep reads only the sockets gone quiet and the first one that is not: with 5,000 idle
	// sockets, reading them all every 5 s was a measurable share of an idle desk's CPU.
	const sweepEvery = Math.max(250, Math.min(5000, Math.floor(options.idleMs / 4)));
	const sweeper = setInterval(() => {
		const cutoff = Date.now() - options.idleMs;
		for (const [socket, entry] of entries) {
			if (entry.lastSeen >= cutoff) break;
			// Closing reaches `remove` through the close handler; until then it is closed again.
			socket.close(1000, "Inactive");
		}
	}, sweepEvery);
	const pinger = setInterval(() => {
		options.publish(PING_TOPIC, encodeFrame({ type: "ping", data: { timestamp: Date.now() } }));
	}, options.pingMs);

	return {
		add(socket, customerId) {
			entries.delete(socket);
			entries.set(socket, { customerId, lastSeen: Date.now() });
			socket.subscribe(PING_TOPIC);
			const own = socketsOf(customerId).filter((other) => other !== socket);
			own.push(socket);
			const oldest = own.length > max ? own.shift() : undefined;
			setSockets(customerId, own);
			if (oldest) {
				entries.delete(oldest);
				oldest.close(4008, "Too many connections");
			}
		},
		remove(socket) {
			const entry = entries.get(socket);
			if (!entry) return;
			entries.delete(socket);
			setSockets(
				entry.customerId,
				socketsOf(entry.customerId).filter((other) => other !== socket),
			);
		},
		touch(socket) {
			const entry = entries.get(socket);
			if (!entry) return;
			entry.lastSeen = Date.now();
			entries.delete(socket);
			entries.set(socket, entry);
		},
		count: () => entries.size,
		move(from, to) {
			const moving = socketsOf(from);
			byCustomer.delete(from);
			const target = socketsOf(to).filter((socket) => !moving.includes(socket));
			target.push(...moving);
			setSockets(to, target);
			for (const socket of moving) {
				const entry = entries.get(socket);
				if (entry) entry.customerId = to;
			}
			return moving;
		},
		stop() {
			clearInterval(sweeper);
			clearInterval(pinger);
		},
	};
}
