/**
 * The event bus across instances: on PostgreSQL, every instance delivers its own events
 * to its sockets at once and announces them with NOTIFY; a dedicated LISTEN connection hears the
 * other instances' events and delivers them to this instance's sockets. A socket may therefore
 * live on any instance behind the load balancer.
 *
 * An instance alone on its database announces nothing: a NOTIFY is a transaction, and its own
 * LISTEN connection would only read it back and drop it (a third of the database's statements
 * per message at a low rate). Every instance listens on a connection named `topicdesk-events`;
 * the number of those in `pg_stat_activity` says whether anyone else is there. Arrivals and
 * departures are told, not polled for: an instance says hello when its LISTEN is in place (before
 * it serves anyone, so a newcomer's sockets miss nothing) and goodbye when it stops; the others
 * count again at once. The count also runs at start, when this instance's LISTEN comes back, and
 * every `peerCheckMs` (a minute) for an instance that died without a goodbye — until then the
 * others only send NOTIFYs nobody needs. (Every 5 s, it was a fifth of an idle desk's statements.)
 *
 * NOTIFY payloads must stay under 8000 bytes. A message of 4000 characters in a multi-byte script
 * does not fit, so such events travel as a reference (`{type, id}`) and the receiving instance
 * reads the message back from the database, which the sender committed before publishing.
 */
import { and, eq } from "drizzle-orm";
import postgres from "postgres";
import type { CustomerEvent, EventBus } from "../core/events.ts";
import { mediaRefColumns, toStored } from "../core/stored-message.ts";
import { type Database, reconnectBackoff } from "../db/client.ts";
import { media, messages } from "../db/schema.ts";
import type { Logger } from "../observability/logger.ts";
import { createLocalBus } from "./local-bus.ts";

export const EVENTS_CHANNEL = "topicdesk_events";

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;

/** An event too large for NOTIFY, named by the message it is about. */
type EventRef = { type: "message" | "message_edited"; id: string };

/** What travels on the channel: who sent it, for whom, and the event or a reference to it. */
type Notice = { from: string; n: number; customerId: string } & (
	| { event: CustomerEvent }
	| { ref: EventRef }
);

/**
 * Notices about the instances rather than a customer: one whose LISTEN is in place (the others
 * start announcing to it), one that stops, and Telegram work committed without an event to
 * announce (a timer fired): the others' outbox workers look for it now, not at their next poll.
 */
type Hello =
	| { from: string; hello: true }
	| { from: string; bye: true }
	| { from: string; work: true };

/** The application name of every instance's LISTEN connection: how instances count each other. */
export const LISTENER_NAME = "topicdesk-events";

const COUNT_LISTENERS_SQL = `select count(*)::int as n from pg_stat_activity
	where datname = current_database() and application_name = '${LISTENER_NAME}'`;

export interface PgBus extends EventBus {
	/** This instance's id on the channel (its own notices are not delivered twice). */
	readonly instanceId: string;
	/** Whether events are announced (another instance listens). */
	readonly announcing: boolean;
	/**
	 * Tells the other instances that Telegram work was committed (one of them may be the sender
	 * of it). Nothing is sent when no one else listens, or when a notice of this instance leaves
	 * after the commit anyway (an event it committed): every notice wakes the receiver's outbox.
	 */
	announceWork(): void;
	/** Stops listening; events published afterwards are delivered locally only. */
	close(): Promise<void>;
}

export interface PgBusOptions {
	pg: postgres.Sql;
	/** The database's URL: the LISTEN connection is a client of its own, named for the count. */
	databaseUrl: string;
	/** How often the instances listening are counted (departures without a goodbye). Default 60 s. */
	peerCheckMs?: number;
	database: Database;
	log: Logger;
	instanceId?: string;
	/**
	 * Told of every notice from another instance: what it committed may have queued Telegram work
	 * this instance sends (the group sender), so the outbox looks now instead of at its next poll.
	 */
	onRemoteNotice?: () => void;
}

function refOf(event: CustomerEvent): EventRef | undefined {
	if (event.type === "message") return { type: "message", id: event.message.id };
	if (event.type === "message_edited") return { type: "message_edited", id: event.id };
	return undefined;
}

/** Reads the event a reference names, as the sender would have built it; undefined if gone. */
async function load(
	database: Database,
	customerId: string,
	ref: EventRef,
): Promise<CustomerEvent | undefined> {
	const [row] = await database.db
		.select({ message: messages, media: mediaRefColumns })
		.from(messages)
		.leftJoin(media, eq(media.id, messages.mediaId))
		.where(and(eq(messages.id, ref.id), eq(messages.customerId, customerId)))
		.limit(1);
	if (!row) return undefined;
	if (ref.type === "message") return { type: "message", message: toStored(row.message, row.media) };
	const editedAt = row.message.editedAt ?? row.message.createdAt;
	return {
		type: "message_edited",
		id: row.message.id,
		text: row.message.text,
		editedAt: editedAt.toISOString(),
	};
}

/**
 * Starts listening and returns the bus. Resolves once LISTEN is in place, so nothing published
 * by another instance after startup is missed. postgres.js re-issues LISTEN by itself when its
 * connection drops (with its reconnect backoff); events sent while it was down are not replayed,
 * and sockets catch up by `seq` when they reconnect.
 *
 * @example const bus = await createPgBus({ pg: database.pg, database, log });
 */
export async function createPgBus(options: PgBusOptions): Promise<PgBus> {
	const { pg, database, log } = options;
	const instanceId = options.instanceId ?? crypto.randomUUID();
	const local = createLocalBus();
	let closed = false;

	// Sending: one batch in flight at a time, each batch one statement, so notices leave in the
	// order they were published (a pool would otherwise race them over several connections).
	// Identical payloads in one transaction are merged by PostgreSQL; the counter keeps them apart.
	let counter = 0;
	let queue: string[] = [];
	let sending: Promise<void> | undefined;
	// Set when a batch is taken, cleared at the next microtask: a caller that has just published
	// (in the same synchronous run, as a commit's events and then its wake-up) knows a notice
	// leaves after its commit.
	let batchTakenThisTurn = false;
	const flush = async () => {
		while (queue.length > 0) {
			const batch = queue;
			queue = [];
			if (!batchTakenThisTurn) {
				batchTakenThisTurn = true;
				queueMicrotask(() => {
					batchTakenThisTurn = false;
				});
			}
			try {
				// One statement (one round trip, atomic, in array order) rather than a transaction
				// of one statement per notice: BEGIN, n selects and COMMIT.
				await (batch.length === 1
					? pg`select pg_notify(${EVENTS_CHANNEL}, ${batch[0] as string})`
					: pg`select count(pg_notify(${EVENTS_CHANNEL}, p)) from unnest(${pg.array(batch)}::text[]) as p`);
			} catch (error) {
				// Sockets on other instances catch up by seq when they reconnect.
				log.warn("events not announced to other instances", {
					count: batch.length,
					error: String(error),
				});
			}
		}
		sending = undefined;
	};

	// Receiving: per customer in arrival order; a reference being read holds back that
	// customer's later events so a small status change cannot overtake a large message.
	const pending = new Map<string, Promise<void>>();
	const deliverLater = (customerId: string, produce: () => Promise<CustomerEvent | undefined>) => {
		const previous = pending.get(customerId) ?? Promise.resolve();
		const next = previous
			.then(produce)
			.then((event) => {
				if (event) local.publish(customerId, event);
			})
			.catch((error: unknown) =>
				log.warn("event from another instance not delivered", {
					customerId,
					error: String(error),
				}),
			)
			.finally(() => {
				if (pending.get(customerId) === next) pending.delete(customerId);
			});
		pending.set(customerId, next);
	};
	// Whether another instance listens: only then are events announced.
	let peers = false;
	const countPeers = async () => {
		try {
			const [row] = await pg.unsafe<{ n: number }[]>(COUNT_LISTENERS_SQL, [], { prepare: true });
			const others = Number(row?.n ?? 0) > 1;
			if (others !== peers)
				log.info(
					others ? "other instances listen: announcing events" : "alone: events stay local",
					{
						event: "bus.peers",
						peers: others,
					},
				);
			peers = others;
		} catch (error) {
			// Unsure: announce (the cost of a NOTIFY, never a socket left behind).
			peers = true;
			log.warn("could not count the instances listening", { error: String(error) });
		}
	};

	const receive = (payload: string) => {
		let notice: Notice | Hello;
		try {
			notice = JSON.parse(payload) as Notice | Hello;
		} catch {
			log.warn("unreadable event notice ignored", { bytes: payload.length });
			return;
		}
		if (notice.from === instanceId) return;
		// One leaves: whether anyone else is left is for the count to say.
		if ("bye" in notice) {
			void countPeers();
			return;
		}
		// Anyone else on the channel is a peer; a hello is only that.
		peers = true;
		if ("hello" in notice) return;
		options.onRemoteNotice?.();
		if ("work" in notice || typeof notice.customerId !== "string") return;
		const { customerId } = notice;
		if ("ref" in notice) {
			const ref = notice.ref;
			deliverLater(customerId, () => load(database, customerId, ref));
		} else if (pending.has(customerId)) {
			const event = notice.event;
			deliverLater(customerId, async () => event);
		} else {
			// Called from the driver's notification handler: a failing listener must not reach it.
			try {
				local.publish(customerId, notice.event);
			} catch (error) {
				log.warn("event from another instance not delivered", { customerId, error: String(error) });
			}
		}
	};

	const listener = postgres(options.databaseUrl, {
		max: 1,
		idle_timeout: 0,
		max_lifetime: null,
		onnotice: () => {},
		backoff: reconnectBackoff,
		connection: { application_name: LISTENER_NAME },
	});
	const say = (notice: Hello) =>
		pg.unsafe("select pg_notify($1, $2)", [EVENTS_CHANNEL, JSON.stringify(notice)]);
	const hello = () => say({ from: instanceId, hello: true });
	let listens = 0;
	const listening = await listener.listen(EVENTS_CHANNEL, receive, () => {
		listens++;
		if (listens === 1) return;
		log.info("listening for other instances' events again");
		// The others may have counted this instance gone meanwhile: they announce again at once.
		void hello().catch((error: unknown) =>
			log.warn("could not greet the other instances", { error: String(error) }),
		);
		// A count made while this LISTEN was down did not find this instance (it read "alone"),
		// and a newcomer's hello may have gone unheard.
		void countPeers();
	});
	await hello();
	await countPeers();
	const peerTimer = setInterval(() => void countPeers(), options.peerCheckMs ?? 60_000);
	peerTimer.unref?.();

	return {
		instanceId,
		get announcing() {
			return peers;
		},
		publish(customerId, event) {
			local.publish(customerId, event);
			if (closed || !peers) return;
			counter++;
			let payload = JSON.stringify({ from: instanceId, n: counter, customerId, event });
			if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
				const ref = refOf(event);
				if (!ref) {
					log.error("event too large to announce", { type: event.type, customerId });
					return;
				}
				payload = JSON.stringify({ from: instanceId, n: counter, customerId, ref });
			}
			queue.push(payload);
			sending ??= flush();
		},
		subscribe: local.subscribe,
		announceWork() {
			if (closed || !peers || queue.length > 0 || batchTakenThisTurn) return;
			queue.push(JSON.stringify({ from: instanceId, work: true } satisfies Hello));
			sending ??= flush();
		},
		async close() {
			closed = true;
			clearInterval(peerTimer);
			await sending;
			await listening.unlisten().catch(() => undefined);
			await listener.end({ timeout: 5 }).catch(() => undefined);
			// Once the LISTEN connection is closed, so the others' count no longer finds it
			// (PostgreSQL clears a backend from pg_stat_activity before it closes the socket).
			await say({ from: instanceId, bye: true }).catch(() => undefined);
			await Promise.all(pending.values());
		},
	};
}
