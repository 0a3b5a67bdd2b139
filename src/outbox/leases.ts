/**
 * The leases of the items this instance has in flight, kept ahead of the clock: a call that waits
 * out a long `retry_after` (or a slow Telegram) keeps its item, so no other instance, and no
 * later claim of this one, sends it a second time meanwhile. Renewed every third of the lease.
 */
import type { Database } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import { renewLeases } from "./statements.ts";

export class Leases {
	/** Items claimed by this instance and not yet settled. */
	private readonly held = new Set<number>();
	private timer: ReturnType<typeof setInterval> | undefined;

	constructor(
		private readonly database: Database,
		readonly leaseMs: number,
		private readonly log: Logger,
	) {}

	hold(id: number): void {
		this.held.add(id);
	}

	drop(id: number): void {
		this.held.delete(id);
	}

	start(): void {
		this.timer ??= setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
	}

	private async renew() {
		if (this.held.size === 0) return;
		await renewLeases(this.database, [...this.held], this.leaseMs).catch((error: unknown) =>
			this.log.warn("outbox lease renewal failed", { error: String(error) }),
		);
	}
}
