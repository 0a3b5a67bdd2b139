/**
 * Benchmark "recovery": a Telegram outage with customers writing through it.
 *
 * Scaled down in time by 60: the group budget is Telegram's 20 calls per minute as 20 per second
 * (`groupPerMinute: 20`, `groupWindow: "1s"`), and a 5-minute outage lasts 5 s… long enough only
 * at that scale, so the outage here lasts OUTAGE_S seconds with the backlog a real one would
 * build: 500 customers (topics created first), each writing one message every WRITE_EVERY_S
 * seconds throughout. While the outage lasts, the Bot API double answers every sendMessage into
 * the group with 500. Afterwards every message must land once, in order per customer, merged
 * where the budget is short (calls per message), at the budget's rate (drain time against the
 * minimum: the calls the backlog needs at 20 per second), while the web path stays fast (echo).
 */

import postgres from "postgres";
import { BotApiError } from "../tests/support/telegram-double-errors.ts";
import type { SocketClient } from "../tests/support/web-client.ts";
import { runMessagePhase } from "./foundation-phase.ts";
import { sleep, summarize, until } from "./support/clock.ts";
import { CpuMeter } from "./support/proc.ts";
import { count, fixed, p50p99, publishReport, table } from "./support/report.ts";
import { startBenchStack } from "./support/service.ts";
import { closeSockets, initSessions, onFrame, openSockets } from "./support/web.ts";

const CUSTOMERS = 500;
const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? 20);
const WRITE_EVERY_S = 4;
/** Customers keep writing this long after the outage (during the drain). */
const AFTER_S = 20;
const CALLS_PER_SECOND = 20;
const MERGE_MAX = 20;

const CONFIG = {
	ws: { ping: "10m", idle: "30m" },
	outbox: {
		groupPerMinute: CALLS_PER_SECOND,
		groupWindow: "1s",
		privatePerSecond: 1_000_000,
		globalPerSecond: 1_000_000,
	},
};

const log = (line: string) => console.log(`[recovery] ${line}`);

const { db, machine, double, service, stop } = await startBenchStack(CONFIG);

try {
	const { sessionIds } = await initSessions(service.url, CUSTOMERS, 64);
	const sockets = (await openSockets(service.url, sessionIds, 1)).map(
		(own) => own[0] as SocketClient,
	);
	// Topics first (not measured): one message each, all landed, at the scaled budget.
	const warm = await runMessagePhase({
		name: "warm",
		sockets,
		messagesPerCustomer: 1,
		mode: { kind: "closed" },
		double,
		cpu: () => new CpuMeter(() => ({})),
		timeoutMs: 600_000,
	});
	log(`warm-up: ${warm.webToTopic.count} topics ready`);
	// The warm-up's status notices and card edits (two more group calls per customer, queued
	// ahead of the customer's next messages) go out before the outage, so the drain measured
	// afterwards is the outage's backlog alone.
	const pg = postgres(db.url, { max: 1, onnotice: () => {} });
	try {
		const deadline = Date.now() + 300_000;
		for (;;) {
			const [row] = await pg<
				{ n: number }[]
			>`select count(*)::int as n from outbox where state = 'pending'`;
			if (Number(row?.n) === 0 || Date.now() > deadline) break;
			await sleep(500);
		}
	} finally {
		await pg.end();
	}
	log("warm-up's queue empty");
	await sleep(3_000);

	const sentAt = new Map<string, number>();
	const echo: { at: number; ms: number }[] = [];
	sockets.forEach((client) => {
		onFrame(client, (frame) => {
			if (frame.type !== "message" || frame.data.from !== "user") return;
			const id = String(frame.data.clientMessageId ?? "");
			const sent = sentAt.get(id);
			if (sent !== undefined) echo.push({ at: Date.now(), ms: Date.now() - sent });
		});
	});
	const send = new Map<number, number>(); // customer → next message index
	const write = (customer: number) => {
		const index = send.get(customer) ?? 0;
		send.set(customer, index + 1);
		const id = `rec-${customer}-${index}`;
		sentAt.set(id, Date.now());
		sockets[customer]?.send({
			type: "message",
			text: `rec c${customer} m${index}`,
			clientMessageId: id,
		});
	};

	const sendMessage = double.handlerOf("sendMessage");
	if (!sendMessage) throw new Error("the double has no sendMessage");
	let down = true;
	double.setMethod("sendMessage", (ctx) => {
		if (down && Number(ctx.params.chat_id) === double.groupId)
			throw new BotApiError(500, "Internal Server Error");
		return sendMessage(ctx);
	});
	const callsBefore = double.calls.length;
	const outageStart = Date.now();
	// Each customer writes every WRITE_EVERY_S s, spread evenly: CUSTOMERS / WRITE_EVERY_S a second.
	const perSecond = CUSTOMERS / WRITE_EVERY_S;
	const writing = (async () => {
		const total = Math.round(perSecond * (OUTAGE_S + AFTER_S));
		const started = Date.now();
		for (let k = 0; k < total; ) {
			const due = Math.min(total, Math.floor(((Date.now() - started) * perSecond) / 1000) + 1);
			while (k < due) write(k++ % CUSTOMERS);
			await sleep(5);
		}
	})();
	await sleep(OUTAGE_S * 1000);
	down = false;
	const outageEnd = Date.now();
	const backlog = [...send.values()].reduce((a, b) => a + b, 0);
	const backlogPerCustomer = [...send.values()];
	log(`outage over after ${OUTAGE_S} s: ${backlog} messages written meanwhile`);
	await writing;
	const written = [...send.values()].reduce((a, b) => a + b, 0);

	// Every message landed (merged copies carry several lines).
	const landed = new Map<string, number>();
	const order = new Map<number, number[]>();
	let cursor = callsBefore;
	let lastLanded = 0;
	let calls = 0;
	const scan = () => {
		for (; cursor < double.calls.length; cursor++) {
			const call = double.calls[cursor];
			if (call?.method !== "sendMessage" || !call.ok) continue;
			let counted = false;
			for (const line of String(call.params.text).split("\n")) {
				const match = /^\[WEB\] rec c(\d+) m(\d+)$/.exec(line);
				if (!match) continue;
				if (!counted) calls++;
				counted = true;
				const key = `${match[1]}/${match[2]}`;
				landed.set(key, (landed.get(key) ?? 0) + 1);
				const list = order.get(Number(match[1])) ?? [];
				list.push(Number(match[2]));
				order.set(Number(match[1]), list);
				lastLanded = call.at;
			}
		}
		return landed.size >= written;
	};
	const drained = await until(scan, 900_000, 100);
	const drainMs = lastLanded - outageEnd;
	const duplicates = [...landed.values()].filter((n) => n > 1).length;
	const outOfOrder = [...order.values()].filter((list) =>
		list.some((value, i) => i > 0 && value < (list[i - 1] as number)),
	).length;
	// The least the outage's backlog needs: per customer, its messages merged MERGE_MAX at a time.
	const minCalls = backlogPerCustomer.reduce((sum, n) => sum + Math.ceil(n / MERGE_MAX), 0);
	const minDrainS = minCalls / CALLS_PER_SECOND;
	const duringDrain = summarize(echo.filter((e) => e.at >= outageEnd).map((e) => e.ms));
	log(
		`${drained ? "drained" : "NOT drained"}: ${landed.size}/${written} landed, ${calls} calls (${fixed(calls / Math.max(1, landed.size), 3)} per message), drain ${fixed(drainMs / 1000, 1)} s after the outage (minimum for the backlog ${fixed(minDrainS, 1)} s), ${duplicates} duplicates, ${outOfOrder} customers out of order, echo during drain ${p50p99(duringDrain)}`,
	);
	// Where the group's budget went after the outage: calls by method and result, and the group's
	// calls per 5 s.
	const byMethod = new Map<string, number>();
	const perFive = new Map<number, number>();
	for (const call of double.calls.slice(callsBefore)) {
		if (Number(call.params.chat_id) !== double.groupId || call.at < outageEnd) continue;
		const key = `${call.method} ${call.ok ? "ok" : "failed"}`;
		byMethod.set(key, (byMethod.get(key) ?? 0) + 1);
		const slot = Math.floor((call.at - outageEnd) / 5000) * 5;
		perFive.set(slot, (perFive.get(slot) ?? 0) + 1);
	}
	const groupCalls = [...byMethod].reduce(
		(sum, [key, n]) => sum + (key.endsWith(" ok") ? n : 0),
		0,
	);
	log(
		`group calls after the outage: ${[...byMethod].map(([k, n]) => `${k} ${n}`).join(", ")} (${fixed(groupCalls / CALLS_PER_SECOND, 1)} s at the budget's rate)`,
	);
	log(
		`group calls per 5 s after the outage: ${[...perFive].map(([t, n]) => `${t}s:${n}`).join(" ")}`,
	);
	await closeSockets(sockets);

	const report = [
		`Scaled by 60 in time: group budget ${CALLS_PER_SECOND} calls per second (Telegram: per minute), ${count(CUSTOMERS)} customers with topics, each writing every ${WRITE_EVERY_S} s (${count(perSecond)} messages/s) for ${OUTAGE_S} s of outage (every sendMessage into the group answered 500) and ${AFTER_S} s after. Minimum drain: the outage's backlog merged ${MERGE_MAX} per call, at the budget's rate. Started ${new Date(outageStart).toISOString()}.`,
		"",
		table(
			["measure", "result", "target"],
			[
				["messages written (during the outage)", `${count(written)} (${count(backlog)})`, "—"],
				[
					"landed once / duplicates / customers out of order",
					`${count(landed.size)} / ${duplicates} / ${outOfOrder}`,
					`${count(written)} / 0 / 0`,
				],
				[
					"Bot API calls per message",
					`**${fixed(calls / Math.max(1, landed.size), 3)}** (${count(calls)} calls)`,
					`≥ ${fixed(minCalls / Math.max(1, backlog), 3)} for the backlog`,
				],
				[
					"drain: outage end → last message landed",
					`**${fixed(drainMs / 1000, 1)} s**`,
					`minimum ${fixed(minDrainS, 1)} s (+ writing goes on ${AFTER_S} s)`,
				],
				[
					"group calls after the outage (every method) at the budget's rate",
					`${count(groupCalls)} calls = ${fixed(groupCalls / CALLS_PER_SECOND, 1)} s`,
					"—",
				],
				["send → echo p50 / p99 during the drain", `**${p50p99(duringDrain)}**`, "p99 ≤ 100 ms"],
			],
		),
	].join("\n");
	publishReport("recovery", machine, report);
} finally {
	await stop();
}
