/**
 * One scenario of the flood benchmark: the service runs with a group budget, the double enforces
 * its own group limit, and a set of customers (whose topics exist already) sends messages over
 * HTTP on a fixed schedule. Measures what reached the group and when, from the double's calls.
 */
import type { ApiCall, TelegramDouble } from "../tests/support/telegram-double.ts";
import { api } from "../tests/support/web-client.ts";
import { now, paced, type Summary, sleep, summarize, until } from "./support/clock.ts";
import { startBenchService } from "./support/service.ts";

export interface FloodScenario {
	/** Also the prefix of the scenario's message texts. */
	name: string;
	label: string;
	/** The service's group budget: calls per `window` (config `outbox.groupPerMinute`). */
	serviceBudget: number;
	/** Messages sent per second overall (customer k % n sends its next message). */
	perSecond: number;
}

export interface FloodResult extends FloodScenario {
	messages: number;
	/** First send → last 201 answer. */
	sendingMs: number;
	/** Calls into the group (answered or refused), getChatAdministrators excepted. */
	groupCalls: number;
	floodAnswers: number;
	/** Successful `[WEB]` sends and those of them carrying several messages. */
	sends: number;
	mergedSends: number;
	/** First send → the double receiving the last message (the call that carried it). */
	lastLandedMs: number;
	/** Per message: send → the call that carried it. */
	latency: Summary;
	/** Every customer's messages arrived once each, in order. */
	inOrder: boolean;
	failedSends: number;
}

export interface FloodSetup {
	databaseUrl: string;
	double: TelegramDouble;
	/** The double's group limit: `max` calls per `windowMs`. */
	limit: { max: number; windowMs: number };
	sessions: readonly string[];
	messagesPerCustomer: number;
	timeoutMs: number;
}

export async function runFloodScenario(
	setup: FloodSetup,
	scenario: FloodScenario,
): Promise<FloodResult> {
	const { double, sessions, messagesPerCustomer } = setup;
	const service = await startBenchService({
		databaseUrl: setup.databaseUrl,
		double,
		config: {
			outbox: {
				groupPerMinute: scenario.serviceBudget,
				groupWindow: `${setup.limit.windowMs / 1000}s`,
			},
		},
	});
	try {
		double.setFloodLimit({ chatId: double.groupId, ...setup.limit });
		await sleep(500);
		const since = double.calls.length;
		const total = sessions.length * messagesPerCustomer;
		const sentAt = new Float64Array(total);
		const text = (customer: number, n: number) => `${scenario.name} c${customer} m${n}`;
		let failedSends = 0;
		const answers: Promise<void>[] = [];
		const started = now();
		await paced(total, scenario.perSecond, (k) => {
			const customer = k % sessions.length;
			const n = Math.floor(k / sessions.length) + 1;
			sentAt[customer * messagesPerCustomer + n - 1] = now();
			answers.push(
				api(service.url, "POST", "/api/chat/message", {
					session: sessions[customer] as string,
					body: { text: text(customer, n), clientMessageId: `${scenario.name}-${customer}-${n}` },
				}).then(
					(response) => void (response.status !== 201 && failedSends++),
					() => void failedSends++,
				),
			);
		});
		await Promise.all(answers);
		const sendingMs = now() - started;

		const landed = () => landedLines(double.calls.slice(since), double.groupId, scenario.name);
		await until(() => landed().lines.length >= total, setup.timeoutMs, 100);
		await sleep(1_500); // calls still under way (there should be none)
		const calls = double.calls
			.slice(since)
			.filter(
				(c) => Number(c.params.chat_id) === double.groupId && c.method !== "getChatAdministrators",
			);
		const { lines, sends } = landed();
		const latencies: number[] = [];
		const seen = new Map<number, number[]>();
		for (const line of lines) {
			latencies.push(line.at - (sentAt[line.customer * messagesPerCustomer + line.n - 1] ?? 0));
			seen.set(line.customer, [...(seen.get(line.customer) ?? []), line.n]);
		}
		const expected = Array.from({ length: messagesPerCustomer }, (_, i) => i + 1).join(",");
		const inOrder =
			seen.size === sessions.length && [...seen.values()].every((ns) => ns.join(",") === expected);
		return {
			...scenario,
			messages: total,
			sendingMs,
			groupCalls: calls.length,
			floodAnswers: calls.filter((c) => c.errorCode === 429).length,
			sends: sends.length,
			mergedSends: sends.filter((c) => String(c.params.text).includes("\n")).length,
			lastLandedMs: Math.max(...lines.map((line) => line.at)) - started,
			latency: summarize(latencies),
			inOrder,
			failedSends,
		};
	} finally {
		await service.stop();
	}
}

interface Line {
	customer: number;
	n: number;
	at: number;
}

/** The scenario's messages in successful sends to the group, one per line of a merged text. */
function landedLines(calls: readonly ApiCall[], groupId: number, name: string) {
	const pattern = new RegExp(`^\\[WEB\\] ${name} c(\\d+) m(\\d+)$`);
	const sends = calls.filter(
		(c) =>
			c.ok &&
			c.method === "sendMessage" &&
			Number(c.params.chat_id) === groupId &&
			// A new ticket's first message stands under its card.
			String(c.params.text)
				.replace(/^📋[\s\S]*?\n\n/, "")
				.startsWith(`[WEB] ${name} `),
	);
	const lines: Line[] = [];
	for (const call of sends)
		for (const line of String(call.params.text).split("\n")) {
			const match = pattern.exec(line);
			if (match) lines.push({ customer: Number(match[1]), n: Number(match[2]), at: call.at });
		}
	return { lines, sends };
}
