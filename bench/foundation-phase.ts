/**
 * One message phase of the foundation benchmark: every customer's socket sends its messages
 * (closed loop: the next one after the echo of the previous; or paced: on a fixed global
 * schedule), and the phase measures
 * - send → echo: the frame leaves the client → the `message` frame (committed, echoed through
 *   the customer's pub/sub topic) arrives on that socket;
 * - web → topic: the frame leaves the client → the Bot API double receives the `sendMessage`
 *   with `[WEB] <text>` (the double's `calls[].at`, same process clock);
 * - topic → web: as soon as a customer's topic exists, the operator posts a reply there
 *   (`operatorPosts`) → the `message` frame from "support" arrives on the customer's socket.
 */
import type { TelegramDouble } from "../tests/support/telegram-double.ts";
import type { SocketClient } from "../tests/support/web-client.ts";
import { now, paced, type Summary, summarize, until } from "./support/clock.ts";
import type { CpuMeter } from "./support/proc.ts";
import { onFrame } from "./support/web.ts";

export type PhaseMode = { kind: "closed" } | { kind: "paced"; perSecond: number };

export interface PhaseOptions {
	name: string;
	/** One socket per customer. */
	sockets: readonly SocketClient[];
	messagesPerCustomer: number;
	mode: PhaseMode;
	double: TelegramDouble;
	/** Started by the phase when the first message is sent. */
	cpu: () => CpuMeter;
	/** Upper bound for each wait (echoes, topic deliveries, replies). */
	timeoutMs: number;
	/** Whether the operator answers in each customer's topic (default: yes). */
	operatorReplies?: boolean;
}

export interface PhaseResult {
	total: number;
	echoed: number;
	/** First send → last echo. */
	acceptMs: number;
	echo: Summary;
	webToTopic: Summary;
	/** First send → last `[WEB]` sendMessage at the double. */
	topicMs: number;
	topicToWeb: Summary;
	/** Share of one core per process group while messages were being accepted. */
	cpu: Record<string, number>;
	errorFrames: string[];
	/** `[WEB]` texts the double received more than once. */
	duplicates: number;
	/** Each customer's topic (message_thread_id), 0 when none was seen. */
	threads: Int32Array;
}

export async function runMessagePhase(options: PhaseOptions): Promise<PhaseResult> {
	const { name, sockets, double } = options;
	const customers = sockets.length;
	const perCustomer = options.messagesPerCustomer;
	const total = customers * perCustomer;
	const slot = (customer: number, message: number) => customer * perCustomer + message;
	const sentAt = new Float64Array(total);
	const topicAt = new Float64Array(total).fill(Number.NaN);
	const replyAt = new Float64Array(customers);
	const threads = new Int32Array(customers);
	const echoLatency: number[] = [];
	const replyLatency: number[] = [];
	const errorFrames: string[] = [];
	let lastEcho = 0;
	let lastTopic = 0;
	let topicSeen = 0;
	let duplicates = 0;
	const replyText = (customer: number) => `${name} reply c${customer}`;
	const closedLoop = options.mode.kind === "closed";

	/** Each customer's latest message sent (in the closed loop, the one in flight). */
	const latest = new Int32Array(customers);
	const send = (customer: number, message: number) => {
		latest[customer] = message;
		sentAt[slot(customer, message)] = now();
		sockets[customer]?.send({
			type: "message",
			text: `${name} c${customer} m${message}`,
			clientMessageId: `${name}-${customer}-${message}`,
		});
	};

	sockets.forEach((client, customer) => {
		onFrame(client, (frame, at) => {
			if (frame.type === "error") {
				// The message in flight was not stored (the frame names no clientMessageId); the
				// closed loop goes on with the next one.
				errorFrames.push(JSON.stringify(frame.data));
				const next = (latest[customer] as number) + 1;
				if (closedLoop && next < perCustomer) send(customer, next);
				return;
			}
			if (frame.type !== "message") return;
			const { from, clientMessageId, text } = frame.data;
			if (from === "user" && typeof clientMessageId === "string") {
				const [phase, , index] = clientMessageId.split("-");
				if (phase !== name) return;
				const message = Number(index);
				echoLatency.push(at - (sentAt[slot(customer, message)] as number));
				lastEcho = at;
				if (closedLoop && message + 1 < perCustomer) send(customer, message + 1);
			} else if (from === "support" && text === replyText(customer)) {
				replyLatency.push(at - (replyAt[customer] as number));
			}
		});
	});

	// Watches the double's calls: the arrival of each `[WEB]` copy (a new ticket's first one under
	// its card), and the first one of each customer makes the operator answer in that topic.
	const pattern = new RegExp(`(?:^|\\n\\n)\\[WEB\\] ${name} c(\\d+) m(\\d+)$`);
	let cursor = double.calls.length;
	const watcher = setInterval(() => {
		for (; cursor < double.calls.length; cursor++) {
			const call = double.calls[cursor];
			if (call?.method !== "sendMessage" || !call.ok) continue;
			const match = pattern.exec(String(call.params.text));
			if (!match) continue;
			const customer = Number(match[1]);
			const index = slot(customer, Number(match[2]));
			if (!Number.isNaN(topicAt[index])) {
				duplicates++;
				continue;
			}
			topicAt[index] = call.at;
			lastTopic = Math.max(lastTopic, call.at);
			topicSeen++;
			if (threads[customer] === 0) threads[customer] = Number(call.params.message_thread_id);
			if (replyAt[customer] === 0 && options.operatorReplies !== false) {
				replyAt[customer] = now();
				double.operatorPosts(threads[customer] as number, replyText(customer));
			}
		}
	}, 2);

	try {
		const cpu = options.cpu();
		const started = now();
		if (options.mode.kind === "closed") {
			for (let customer = 0; customer < customers; customer++) send(customer, 0);
		} else {
			await paced(total, options.mode.perSecond, (k) =>
				send(k % customers, Math.floor(k / customers)),
			);
		}
		// A message answered with an error frame was not stored: it is neither echoed nor copied.
		await until(() => echoLatency.length + errorFrames.length >= total, options.timeoutMs);
		const cpuShares = cpu.read();
		await until(() => topicSeen >= echoLatency.length, options.timeoutMs);
		if (options.operatorReplies !== false)
			await until(() => replyLatency.length >= customers, options.timeoutMs);

		const webToTopic: number[] = [];
		topicAt.forEach((at, index) => {
			if (!Number.isNaN(at)) webToTopic.push(at - (sentAt[index] as number));
		});
		// BENCH_TIMELINE=1: the slowest copy of each second of sending, to see when a tail happens.
		if (process.env.BENCH_TIMELINE === "1") {
			const worst = new Map<number, number>();
			topicAt.forEach((at, index) => {
				if (Number.isNaN(at)) return;
				const second = Math.floor(((sentAt[index] as number) - started) / 1000);
				worst.set(second, Math.max(worst.get(second) ?? 0, at - (sentAt[index] as number)));
			});
			console.log(
				`[${name}] slowest web → topic per second sent since ${new Date(started).toISOString()}: ${[
					...worst,
				]
					.sort((a, b) => a[0] - b[0])
					.map(([second, ms]) => `${second}s:${Math.round(ms)}`)
					.join(" ")}`,
			);
		}
		return {
			total,
			echoed: echoLatency.length,
			acceptMs: lastEcho - started,
			echo: summarize(echoLatency),
			webToTopic: summarize(webToTopic),
			topicMs: lastTopic - started,
			topicToWeb: summarize(replyLatency),
			cpu: cpuShares,
			errorFrames,
			duplicates,
			threads,
		};
	} finally {
		clearInterval(watcher);
	}
}
