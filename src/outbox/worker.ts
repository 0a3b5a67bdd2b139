/**
 * Delivers the outbox: the head item of each customer's queue, several customers at once, one
 * item at a time per customer so order is kept. A pump claims runnable heads (claim.ts) within
 * the room left, the group's flood budget and each target's breaker, and launches a delivery per
 * item; each delivery's finish is batched (finish.ts), its failure backs off or kills the item
 * (backoff.ts). Claimed items are leased (leases.ts), so several instances share the work
 * without delivering anything twice; only the group sender (sender-lock.ts) sends group work.
 */
import { recordFailure } from "./backoff.ts";
import { Breaker } from "./breaker.ts";
import { type Claimed, claimHeads } from "./claim.ts";
import {
	type ClaimedItem,
	type DeliveryFailure,
	retryEverything,
	type Target,
} from "./delivery.ts";
import { FinishBatcher, runHandler } from "./finish.ts";
import { groupCallsOf, waitsForIdle, withinCalls } from "./group-calls.ts";
import { IdleGroups } from "./idle-group.ts";
import { InFlight } from "./in-flight.ts";
import { Leases } from "./leases.ts";
import { DEFAULT_GROUP, type OutboxGroup, type OutboxWorkerOptions, tunings } from "./options.ts";
import { Schedule } from "./schedule.ts";
import { GroupSender } from "./sender-lock.ts";
import { releaseItems } from "./statements.ts";

export interface OutboxWorker {
	/**
	 * Work was committed (here, or announced by another instance): claim now. `queuedBehind`
	 * false: every new item became its queue's head (nothing waits behind one).
	 */
	wake(queuedBehind?: boolean): void;
	start(): void;
	/** Stops claiming and waits for the items in flight (aborting their calls after a grace). */
	stop(): Promise<void>;
	/**
	 * Writes the finishes collected so far (deferred ones included): whatever reads the copies
	 * a delivery made, such as an update replying to one, finds them.
	 */
	settle(): Promise<void>;
}

export function createOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
	return new WorkerLoop(options);
}

/** The worker's state, explicit: what is in flight, what woke it, whether it is running. */
class WorkerLoop implements OutboxWorker {
	private readonly tunings: ReturnType<typeof tunings>;
	private readonly leases: Leases;
	private readonly finishes: FinishBatcher;
	private readonly sender: GroupSender;
	private readonly breakers: Record<Target, Breaker>;
	private readonly schedule: Schedule;
	private readonly inFlight = new InFlight();
	private running = false;
	/** stop() gave up waiting: the calls in flight are being aborted. */
	private stopping = false;
	private pumping = false;
	/** Something asked for a claim while one ran: claim once more. */
	private again = false;
	/**
	 * A claim was asked for while the room was full: the next delivery to end claims, whatever
	 * its own item left behind (the request may have come from another delivery's queue).
	 */
	private roomWanted = false;
	private pumpDone: Promise<void> = Promise.resolve();
	/** wake() calls so far: work made ready by a commit here or another instance's notice. */
	private wakes = 0;
	/** The latest claim took every ready head it could see (fewer rows than each limit). */
	private lastClaimExhausted = false;
	private readonly idle: IdleGroups;
	/** An item may wait behind a head whose finish is (or will be) deferred. */
	private queuedBehind = false;

	constructor(private readonly options: OutboxWorkerOptions) {
		const { database, log } = options;
		this.tunings = tunings(options);
		const pump = () => this.pump();
		this.leases = new Leases(database, this.tunings.leaseMs, log);
		this.sender = new GroupSender(options.groupLock, this.tunings.groupLockCheckMs, log, pump);
		this.finishes = new FinishBatcher(database, log, {
			batchMs: this.tunings.finishBatchMs,
			deferMs: this.tunings.finishDeferMs,
			inFlight: () => this.inFlight.total,
			mayDefer: () => this.running && this.sender.sending,
			mayRetry: () => this.running,
		});
		this.breakers = {
			group: new Breaker("group", this.tunings.breaker, database, log, pump),
			dm: new Breaker("dm", this.tunings.breaker, database, log, pump),
		};
		this.schedule = new Schedule(database, log, this.tunings, pump);
		this.idle = new IdleGroups(this.inFlight, this.schedule, options.budget, options.groups);
	}

	wake(queuedBehind = true): void {
		this.wakes++;
		if (queuedBehind) this.queuedBehind = true;
		this.pump();
	}

	settle(): Promise<void> {
		return this.finishes.settle();
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		this.stopping = false;
		this.schedule.start();
		this.leases.start();
		this.sender.start();
		this.pump();
	}

	async stop(): Promise<void> {
		this.running = false;
		this.schedule.stop();
		this.sender.stop();
		for (const breaker of Object.values(this.breakers)) breaker.stop();
		await this.pumpDone;
		// Items in flight get a grace to finish; then their calls are aborted, and each aborted
		// item is put back due at once (recordFailure) rather than left leased for a minute.
		if (!(await this.inFlight.drainedWithin(this.tunings.stopGraceMs))) {
			this.stopping = true;
			this.options.abortCalls?.();
			await this.inFlight.drained();
		}
		await this.finishes.settle();
		this.leases.stop();
		await this.sender.release();
	}

	private pump(): void {
		if (!this.running) return;
		if (this.pumping) {
			this.again = true;
			return;
		}
		this.pumpDone = this.pumpOnce();
	}

	private async pumpOnce() {
		this.pumping = true;
		try {
			do {
				this.again = false;
				if (!(await this.claimRound())) {
					if (this.running && this.inFlight.total > 0) this.roomWanted = true;
					break;
				}
			} while (this.again && this.running);
		} catch (error) {
			this.options.log.warn("outbox claim failed", { error: String(error) });
		} finally {
			this.pumping = false;
		}
	}

	/** One claim within the room left, its items launched; false when there was no room. */
	private async claimRound(): Promise<boolean> {
		// A deferred finish still holds its customer's head: when an item may have been filed
		// behind one (whoever filed it woke this pump), it is written first, so that the claim
		// sees that item. Only once nothing is in flight can no later deferral hold such an item.
		if (this.queuedBehind && this.finishes.deferredPending()) await this.finishes.settle();
		if (this.inFlight.total === 0 && !this.finishes.deferredPending()) this.queuedBehind = false;
		let room = this.tunings.concurrency - this.inFlight.total;
		if (room <= 0) return false;
		this.roomWanted = false;
		const wakesBefore = this.wakes;
		let dmRoom = this.breakers.dm.room(room);
		let exhausted = true;
		// Each support group's heads are claimed within that group's own flood budget; the first
		// claim takes the private chats' heads too.
		for (const group of this.options.groups?.() ?? [DEFAULT_GROUP]) {
			const claimed = await this.claimGroup(group, room, dmRoom, wakesBefore);
			if (claimed === undefined) return false;
			// A group with no room now was not looked at: whatever it has is still to claim.
			if (claimed.skipped) {
				exhausted = false;
				continue;
			}
			room -= claimed.taken;
			dmRoom = 0;
			exhausted &&= claimed.exhausted;
			if (room <= 0) break;
		}
		this.lastClaimExhausted = exhausted;
		return true;
	}

	/**
	 * Claims one group's heads (and `dmRoom` DM heads) and launches them: undefined when stop()
	 * came meanwhile; `skipped` when the group had no room and no DM heads were wanted.
	 */
	private async claimGroup(group: OutboxGroup, room: number, dmRoom: number, wakesBefore: number) {
		const { budget } = this.options;
		// Group work only on the group sender, and only while the group's flood budget has calls
		// left; items in flight have not all made their calls yet, so they count against it too.
		const sending = this.sender.sending;
		const inFlight = this.inFlight.inGroup(group.key);
		// Calls the budget allows now; the room is counted in items, the budget in calls.
		const callsLeft = budget ? budget.available(group.budget) - inFlight : Number.POSITIVE_INFINITY;
		const budgetRoom = !sending ? 0 : Math.min(room, callsLeft);
		const groupRoom = this.breakers.group.room(budgetRoom);
		// Work that waits for an idle group (pins) only while no group item is in flight; one
		// held back that way is looked for again after the deliveries (not "exhausted").
		const idleHeld = sending && inFlight > 0;
		const idleRoom = sending && !idleHeld ? this.idle.room(group, groupRoom) : 0;
		if (budget && sending && budgetRoom <= 0)
			this.schedule.afterBudget(Math.max(50, budget.waitMs(group.budget)));
		if (dmRoom <= 0 && groupRoom <= 0 && idleRoom <= 0)
			return { skipped: true, taken: 0, exhausted: false };
		const rows = await claimHeads(
			this.options.database,
			dmRoom,
			groupRoom,
			this.tunings.leaseMs,
			idleRoom,
			group.key,
		);
		const direct = rows.filter((row) => row.target === "dm");
		let grouped = rows.filter((row) => row.target === "group");
		// Both targets had more work than room: the group heads beyond it go back at once.
		const over = direct.length + grouped.length - room;
		// Pins are claimed up to the idle limit, the rest up to the group's room: a claim that hit
		// its limit is not "exhausted", and more is looked for after the deliveries.
		const idleOnly = grouped.length > 0 && grouped.every(({ item }) => waitsForIdle(item.kind));
		// The group was idle and this claim could take its waiting work: nothing is owed any more.
		if (idleRoom > 0 && (grouped.length === 0 || idleOnly)) this.idle.looked(group.key);
		const limit = idleOnly ? idleRoom : groupRoom;
		const fullClaim = grouped.length;
		if (over > 0) {
			await this.release(grouped.slice(grouped.length - over));
			grouped = grouped.slice(0, grouped.length - over);
		}
		// New tickets make two calls each: what the budget cannot carry goes back at once.
		const { kept, back } = withinCalls(grouped, callsLeft);
		if (back.length > 0) await this.release(back);
		grouped = kept;
		const exhausted =
			direct.length < dmRoom && fullClaim < limit && over <= 0 && !idleHeld && !back.length;
		// Budget-bound and took all it could: more group work is likely waiting behind it. An
		// instance that is not the group sender has no say about the group's backlog.
		budget?.noteGroupBacklog(
			sending && budgetRoom < room - direct.length && (fullClaim >= budgetRoom || back.length > 0),
			group.budget,
		);
		// While a target is down, what was claimed there is its probe; a probe that found nothing
		// ready readies one backed-off item and claims again.
		if (await this.breakers.dm.claimed(dmRoom, direct[0]?.item.id)) this.again = true;
		if (await this.breakers.group.claimed(groupRoom, grouped[0]?.item.id)) this.again = true;
		const taken = [...direct, ...grouped];
		if (!this.running) {
			// stop() came while claiming: hand the rows straight back.
			await this.release(taken);
			return undefined;
		}
		for (const claimed of taken) this.launch(claimed, wakesBefore);
		if (taken.length === room || (grouped.length > 0 && grouped.length === groupRoom))
			this.again = true;
		return { skipped: false, taken: taken.length, exhausted };
	}

	/** Delivers a claimed item in the background, holding a place among those in flight. */
	private launch(claimed: Claimed, wakesBefore: number) {
		const { item, target, hasNext, idleNext } = claimed;
		const groupKey = target === "group" ? (item.groupKey ?? 0) : undefined;
		const calls = target === "group" ? groupCallsOf(claimed) : 1;
		this.inFlight.add(target, groupKey, calls);
		this.leases.hold(item.id);
		const idle = () =>
			groupKey !== undefined && this.idle.isIdle(groupKey, calls, this.lastClaimExhausted);
		void this.deliver(claimed, idle).then((delivered) => {
			this.leases.drop(item.id);
			this.inFlight.remove(target, groupKey, calls);
			// Work that waits for the group to be idle was pending behind this item: its deferred
			// finish is written before the claim that looks for that work.
			const key = groupKey ?? item.groupKey ?? 0;
			if (idleNext) this.oweIdleWork(key);
			// The group's last delivery in flight ended: the work filed for its idle time is due.
			const nowIdle = this.idle.dueAfterDelivery(key);
			// A claim after each delivery finds the customer's next item, or work the room or the
			// budget held back. Not needed when the item was delivered, its queue had nothing
			// behind it, nothing woke the worker since it was claimed and the latest claim took
			// every ready head: whatever becomes ready later wakes the worker itself. (A claim
			// since the wake is not enough: what the wake announced may have been filed behind
			// this very item, and become its queue's head only with this item's finish.)
			if (
				!delivered ||
				hasNext ||
				nowIdle ||
				this.roomWanted ||
				this.wakes !== wakesBefore ||
				!this.lastClaimExhausted
			)
				this.pump();
		});
	}

	/** Delivers one item; true when it was delivered. */
	private async deliver(
		{ item, target, hasNext }: Claimed,
		groupIdle: () => boolean,
	): Promise<boolean> {
		const handler = this.options.handlers[item.kind];
		try {
			if (!handler) throw new Error(`no handler for outbox kind ${item.kind}`);
			await runHandler(handler, item, this.finishes, !hasNext, groupIdle, () =>
				this.oweIdleWork(item.groupKey ?? 0),
			);
			this.breakers[target].answered(item.id);
			this.options.onDelivered?.(item.kind);
			return true;
		} catch (error) {
			const failure: DeliveryFailure = handler
				? (this.options.classifyFailure ?? retryEverything)(error)
				: { kind: "permanent", code: 0, description: String(error) };
			await this.failed(item, target, failure);
			return false;
		}
	}

	private async failed(item: ClaimedItem, target: Target, failure: DeliveryFailure) {
		// A call cut short by stop() says nothing about Telegram, and was no real attempt.
		if (failure.kind !== "transient") this.breakers[target].answered(item.id);
		else if (!this.stopping) this.breakers[target].unanswered(item.id);
		const aborted = this.stopping && failure.kind === "transient";
		const { database, log } = this.options;
		try {
			const dueIn = await recordFailure(database, log, item, failure, aborted);
			if (dueIn !== null) this.schedule.after(dueIn);
		} catch (error) {
			log.error("could not record outbox failure", { id: item.id, error: String(error) });
		}
	}

	/**
	 * A group has work that waits for it to be idle (a pin), filed behind a head whose finish may
	 * be deferred: claimed once the group's last delivery in flight ends, that finish written first.
	 */
	private oweIdleWork(groupKey: number) {
		this.queuedBehind = true;
		this.idle.owe(groupKey);
	}

	/** Claimed while stopping or beyond the room: back to their queues, due now. */
	private release(claimed: Claimed[]) {
		return releaseItems(
			this.options.database,
			claimed.map(({ item }) => item.id),
		);
	}
}
