import type { CustomerEvent, EventBus } from "../core/events.ts";

/**
 * The in-process bus: one instance, listeners called synchronously after a commit. The
 * PostgreSQL LISTEN/NOTIFY bus wraps this same interface for several instances.
 */
export function createLocalBus(): EventBus {
	const listeners = new Set<(customerId: string, event: CustomerEvent) => void>();
	return {
		publish(customerId, event) {
			for (const listener of listeners) listener(customerId, event);
		},
		subscribe(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
	};
}
