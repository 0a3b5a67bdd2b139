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
	// Insertion order is open order, so the first socket of a customer is its oldest.
	const byCustomer = new Map<string, Set<LiveSocket>>();

	const sweepEvery = Math.max(250, Math.min(5000, Math.floor(options.idleMs / 4)));
	const sweeper = setInterval(() => {
		const cutoff = Date.now() - options.idleMs;
		for (const [socket, entry] of entries) {
			if (entry.lastSeen < cutoff) socket.close(1000, "Inactive");
		}
	}, sweepEvery);
	const pinger = setInterval(() => {
		options.publish(PING_TOPIC, encodeFrame({ type: "ping", data: { timestamp: Date.now() } }));
	}, options.pingMs);

	return {
		add(socket, customerId) {
			entries.set(socket, { customerId, lastSeen: Date.now() });
			socket.subscribe(PING_TOPIC);
			const own = byCustomer.get(customerId) ?? new Set<LiveSocket>();
			byCustomer.set(customerId, own);
			own.add(socket);
			if (own.size > max) {
				const [oldest] = own;
				if (oldest) {
					own.delete(oldest);
					entries.delete(oldest);
					oldest.close(4008, "Too many connections");
				}
			}
		},
		remove(socket) {
			const entry = entries.get(socket);
			if (!entry) return;
			entries.delete(socket);
			const own = byCustomer.get(entry.customerId);
			own?.delete(socket);
			if (own?.size === 0) byCustomer.delete(entry.customerId);
		},
		touch(socket) {
			const entry = entries.get(socket);
			if (entry) entry.lastSeen = Date.now();
		},
		count: () => entries.size,
		move(from, to) {
			const moving = [...(byCustomer.get(from) ?? [])];
			byCustomer.delete(from);
			const target = byCustomer.get(to) ?? new Set<LiveSocket>();
			byCustomer.set(to, target);
			for (const socket of moving) {
				target.add(socket);
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
