/**
 * The service's Prometheus metrics, through prom-client (it runs unchanged on Bun).
 * Counters and histograms are fed by the parts that see the events (the web door's request hook,
 * the Bot API client, the poller's router, the outbox worker); gauges about the database (outbox
 * depth and age, dead items, timers) are queried when Prometheus scrapes, so they are right
 * across instances and restarts. One registry per service, so tests can run several.
 */
import { sql } from "drizzle-orm";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/client.ts";

/** What the gauges read at scrape time. */
export interface MetricSources {
	database: Database;
	/** Open WebSocket connections on this instance. */
	openSockets(): number;
	/** Calls the group's flood budget allows right now (absent while the bot is disabled). */
	groupBudgetLeft?(): number | undefined;
	/** Configured size of the PostgreSQL pool (1 for embedded PGlite). */
	poolSize: number;
}

export interface Metrics {
	registry: Registry;
	httpRequest(route: string, method: string, status: number, seconds: number): void;
	messageAccepted(channel: string): void;
	operatorReplyDelivered(channel: string): void;
	/** One Bot API call and how it ended: "ok", the error code ("400", "429"…) or "network". */
	telegramCall(method: string, result: string): void;
	/** A 429 paused a chat for this many seconds. */
	floodPause(seconds: number): void;
	/** An update committed, `lagSeconds` after Telegram dated it. */
	updateApplied(lagSeconds: number | undefined): void;
	/** Applying an update failed (it is retried until it commits: nothing is skipped). */
	updateFailed(): void;
	/** Connects the scrape-time gauges to their sources (once the service has them). */
	attach(sources: MetricSources): void;
	/**
	 * Reads the database gauges; called before each scrape (prom-client collects metrics
	 * concurrently, so one query round here beats one per gauge).
	 */
	refresh(): Promise<void>;
}

export function createMetrics(): Metrics {
	const registry = new Registry();
	const registers = [registry];
	const httpRequests = new Counter({
		name: "topicdesk_http_requests_total",
		help: "HTTP requests by route pattern, method and status.",
		labelNames: ["route", "method", "status"],
		registers,
	});
	const httpDuration = new Histogram({
		name: "topicdesk_http_request_duration_seconds",
		help: "HTTP request latency by route pattern, method and status.",
		labelNames: ["route", "method", "status"],
		buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
		registers,
	});
	const accepted = new Counter({
		name: "topicdesk_messages_accepted_total",
		help: "Customer messages accepted, by the channel they came from (web, telegram).",
		labelNames: ["channel"],
		registers,
	});
	const replies = new Counter({
		name: "topicdesk_operator_replies_delivered_total",
		help: "Operator replies delivered, by channel: web (published to the customer's sockets) and telegram (sent to the customer's private chat).",
		labelNames: ["channel"],
		registers,
	});
	const telegramCalls = new Counter({
		name: "topicdesk_telegram_calls_total",
		help: "Bot API calls by method and result (ok, the error code, or network).",
		labelNames: ["method", "result"],
		registers,
	});
	const floods = new Counter({
		name: "topicdesk_telegram_429_total",
		help: "Bot API calls answered 429 Too Many Requests.",
		registers,
	});
	const paused = new Counter({
		name: "topicdesk_telegram_paused_seconds_total",
		help: "Seconds of pause Telegram asked for with retry_after.",
		registers,
	});
	const updates = new Counter({
		name: "topicdesk_telegram_updates_applied_total",
		help: "Telegram updates applied (committed).",
		registers,
	});
	const updateLag = new Histogram({
		name: "topicdesk_telegram_update_lag_seconds",
		help: "Time from Telegram dating an update to its commit here.",
		buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
		registers,
	});
	// Updates whose effects fail are retried a few times, then set aside (failed_updates, the
	// gauge below); this counts what still reaches the receiver: the database being unreachable.
	const updateFailures = new Counter({
		name: "topicdesk_telegram_update_failures_total",
		help: "Failed attempts to apply a Telegram update (each is retried until it commits).",
		registers,
	});
	let sources: MetricSources | undefined;
	new Gauge({
		name: "topicdesk_websockets_open",
		help: "Open widget WebSocket connections on this instance.",
		registers,
		collect() {
			this.set(sources?.openSockets() ?? 0);
		},
	});
	new Gauge({
		name: "topicdesk_telegram_group_budget_left",
		help: "Calls the support group's flood budget allows right now (this instance).",
		registers,
		collect() {
			const left = sources?.groupBudgetLeft?.();
			if (left !== undefined) this.set(left);
		},
	});
	new Gauge({
		name: "topicdesk_process_resident_memory_bytes",
		help: "Resident set size of this process.",
		registers,
		collect() {
			this.set(process.memoryUsage.rss());
		},
	});
	const databaseOk = new Gauge({
		name: "topicdesk_metrics_scrape_database_ok",
		help: "1 when the scrape could read the database gauges.",
		registers,
	});
	const outboxDepth = new Gauge({
		name: "topicdesk_outbox_pending",
		help: "Outbox items waiting for Telegram, by kind (all instances).",
		labelNames: ["kind"],
		registers,
	});
	const outboxAge = new Gauge({
		name: "topicdesk_outbox_oldest_age_seconds",
		help: "Age of the oldest pending outbox item, by kind.",
		labelNames: ["kind"],
		registers,
	});
	const dead = new Gauge({
		name: "topicdesk_outbox_dead",
		help: "Outbox items that failed for good (see /retry in the topic), by kind.",
		labelNames: ["kind"],
		registers,
	});
	const timers = new Gauge({
		name: "topicdesk_timers",
		help: "Durable timers by kind and state (pending: not yet due; overdue: due, not fired).",
		labelNames: ["kind", "state"],
		registers,
	});
	const setAside = new Gauge({
		name: "topicdesk_telegram_updates_set_aside",
		help: "Telegram updates that kept failing and were skipped (table failed_updates; all instances).",
		registers,
	});
	const parked = new Gauge({
		name: "topicdesk_timers_parked",
		help: "Timers that kept failing and were parked with their reason (timers.parked_at), by kind.",
		labelNames: ["kind"],
		registers,
	});
	const pool = new Gauge({
		name: "topicdesk_db_connections",
		help: "Database connections: the pool's size (this instance) and, on PostgreSQL, topicdesk's connections by state (all instances, from pg_stat_activity).",
		labelNames: ["state"],
		registers,
	});
	async function collectDatabase({ database, poolSize }: MetricSources) {
		const outbox = await database.query<{ kind: string; state: string; n: number; age: number }>(
			sql`select kind, state, count(*)::int as n,
				coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
				from outbox where state in ('pending', 'dead') group by kind, state`,
		);
		outboxDepth.reset();
		outboxAge.reset();
		dead.reset();
		for (const row of outbox) {
			if (row.state === "pending") {
				outboxDepth.set({ kind: row.kind }, Number(row.n));
				outboxAge.set({ kind: row.kind }, Number(row.age));
			} else dead.set({ kind: row.kind }, Number(row.n));
		}
		const timerRows = await database.query<{ kind: string; overdue: boolean; n: number }>(
			sql`select kind, fire_at <= now() as overdue, count(*)::int as n from timers
				group by kind, fire_at <= now()`,
		);
		timers.reset();
		for (const row of timerRows)
			timers.set({ kind: row.kind, state: row.overdue ? "overdue" : "pending" }, Number(row.n));
		const [failed] = await database.query<{ n: number }>(
			sql`select count(*)::int as n from failed_updates`,
		);
		setAside.set(Number(failed?.n ?? 0));
		const parkedRows = await database.query<{ kind: string; n: number }>(
			sql`select kind, count(*)::int as n from timers where parked_at is not null group by kind`,
		);
		parked.reset();
		for (const row of parkedRows) parked.set({ kind: row.kind }, Number(row.n));
		pool.reset();
		pool.set({ state: "pool_size" }, poolSize);
		if (database.kind === "postgres") {
			const connections = await database.query<{ state: string | null; n: number }>(
				sql`select state, count(*)::int as n from pg_stat_activity
					where datname = current_database() and application_name = 'topicdesk' group by state`,
			);
			for (const row of connections) pool.set({ state: row.state ?? "unknown" }, Number(row.n));
		}
	}

	return {
		registry,
		httpRequest(route, method, status, seconds) {
			const labels = { route, method, status: String(status) };
			httpRequests.inc(labels);
			httpDuration.observe(labels, seconds);
		},
		messageAccepted: (channel) => accepted.inc({ channel }),
		operatorReplyDelivered: (channel) => replies.inc({ channel }),
		telegramCall: (method, result) => telegramCalls.inc({ method, result }),
		floodPause(seconds) {
			floods.inc();
			paused.inc(seconds);
		},
		updateApplied(lagSeconds) {
			updates.inc();
			if (lagSeconds !== undefined) updateLag.observe(Math.max(0, lagSeconds));
		},
		updateFailed: () => updateFailures.inc(),
		attach(next) {
			sources = next;
		},
		async refresh() {
			if (!sources) return;
			try {
				await collectDatabase(sources);
				databaseOk.set(1);
			} catch {
				databaseOk.set(0);
			}
		},
	};
}
