/**
 * The items this worker is delivering now: how many in all (the room a claim may fill), how many
 * into the group (they count against the group's flood budget before they have made their calls),
 * and a promise kept while any is in flight (stop() waits on it).
 */
import type { Target } from "./delivery.ts";

export class InFlight {
	total = 0;
	group = 0;
	/** Calls the group items in flight make, by the group's key (`outbox_heads.group_id`). */
	private readonly groups = new Map<number, number>();
	private idle: Promise<void> = Promise.resolve();
	private releaseIdle: (() => void) | undefined;

	add(target: Target, groupKey = 0, calls = 1): void {
		if (target === "group") {
			this.group++;
			this.groups.set(groupKey, this.inGroup(groupKey) + calls);
		}
		if (this.total++ === 0) this.idle = new Promise((resolve) => (this.releaseIdle = resolve));
	}

	remove(target: Target, groupKey = 0, calls = 1): void {
		if (target === "group") {
			this.group--;
			this.groups.set(groupKey, this.inGroup(groupKey) - calls);
		}
		if (--this.total === 0) this.releaseIdle?.();
	}

	/** Calls the items in flight into the group of this key make (made or still to make). */
	inGroup(groupKey: number): number {
		return this.groups.get(groupKey) ?? 0;
	}

	/** Resolves once nothing is in flight. */
	drained(): Promise<void> {
		return this.idle;
	}

	/** Waits up to `ms` for nothing to be in flight; true when that happened in time. */
	async drainedWithin(ms: number): Promise<boolean> {
		let timer: ReturnType<typeof setTimeout> | undefined;
		const timeUp = new Promise<boolean>((resolve) => {
			timer = setTimeout(() => resolve(false), ms);
		});
		const drained = await Promise.race([this.idle.then(() => true), timeUp]);
		clearTimeout(timer);
		return drained;
	}
}
