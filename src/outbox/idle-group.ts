/**
 * Work that waits for an idle support group (pins): cosmetic, so it never takes a call or a
 * place in the worker's room that a customer's message could use. This decides how much of it a
 * claim may take, whether a delivery is all its group has to do (a pin may then go at once), and
 * remembers groups whose deliveries filed or passed over such work, so that a claim follows once
 * the group's last delivery in flight ends.
 */
import type { FloodBudget } from "./flood-budget.ts";
import type { InFlight } from "./in-flight.ts";
import { DEFAULT_GROUP, type OutboxGroup } from "./options.ts";
import type { Schedule } from "./schedule.ts";

/** Group calls a new ticket makes (its topic, and the card with the question), kept from pins. */
const IDLE_RESERVE = 2;
/**
 * Heads that wait for an idle group (pins) claimed at once. They are cosmetic: taking a hundred at
 * once would fill the worker's room, and the customers' messages arriving meanwhile would wait for
 * it; a couple at a time keeps the room for them.
 */
const IDLE_AT_ONCE = 2;

export class IdleGroups {
	/** Groups (keys) with work that waits for them to be idle, filed while deliveries ran. */
	private readonly owed = new Set<number>();

	constructor(
		private readonly inFlight: InFlight,
		private readonly schedule: Schedule,
		private readonly budget: FloodBudget | undefined,
		private readonly groups: (() => readonly OutboxGroup[]) | undefined,
	) {}

	/**
	 * How many heads that wait for an idle group may be claimed: `IDLE_AT_ONCE` at most, and only
	 * from the budget beyond what a new ticket needs (`IDLE_RESERVE`), so a pin never leaves the
	 * next customer waiting for the window. Short of it, a claim is scheduled for when the window
	 * has slid that far.
	 */
	room(group: OutboxGroup, groupRoom: number): number {
		const { budget } = this;
		if (!budget) return Math.min(groupRoom, IDLE_AT_ONCE);
		const spare = budget.available(group.budget) - IDLE_RESERVE;
		if (spare <= 0)
			this.schedule.afterBudget(Math.max(50, budget.waitMs(group.budget, IDLE_RESERVE + 1)));
		return Math.max(0, Math.min(groupRoom, spare, IDLE_AT_ONCE));
	}

	/**
	 * Whether a delivery into a group is all that group has to do: nothing else of it in flight
	 * (`calls` are this delivery's own), the latest claim took every ready head (`exhausted`), and
	 * the group's budget has room beyond `IDLE_RESERVE`.
	 */
	isIdle(groupKey: number, calls: number, exhausted: boolean): boolean {
		const group = (this.groups?.() ?? [DEFAULT_GROUP]).find((g) => g.key === groupKey);
		return (
			group !== undefined &&
			this.inFlight.inGroup(groupKey) <= calls &&
			exhausted &&
			(!this.budget || this.budget.available(group.budget) > IDLE_RESERVE)
		);
	}

	/** The group has work that waits for it to be idle. */
	owe(groupKey: number): void {
		this.owed.add(groupKey);
	}

	/**
	 * A delivery into the group ended: true when that work is due now (nothing of the group in
	 * flight). It stays owed until a claim has looked for it with the group idle (`looked`): a
	 * claim that found other heads runnable first took those, and the pin waits for their end.
	 */
	dueAfterDelivery(groupKey: number): boolean {
		return this.owed.has(groupKey) && this.inFlight.inGroup(groupKey) === 0;
	}

	/** A claim looked for the group's waiting work while the group was idle. */
	looked(groupKey: number): void {
		this.owed.delete(groupKey);
	}
}
