/**
 * Topic → web on a quiet service: the operator answers in every customer's topic on a fixed
 * schedule while nothing else happens, and each answer's arrival on the customer's socket is
 * timed from the moment the double pushed the update (`operatorPosts`).
 */
import type { TelegramDouble } from "../tests/support/telegram-double.ts";
import type { SocketClient } from "../tests/support/web-client.ts";
import { now, paced, type Summary, summarize, until } from "./support/clock.ts";
import { onFrame } from "./support/web.ts";

export interface RepliesResult {
	perSecond: number;
	latency: Summary;
	expected: number;
}

export async function runReplies(options: {
	name: string;
	sockets: readonly SocketClient[];
	threads: Int32Array;
	double: TelegramDouble;
	perSecond: number;
	timeoutMs: number;
}): Promise<RepliesResult> {
	const { name, sockets, threads, double } = options;
	const postedAt = new Float64Array(sockets.length);
	const latencies: number[] = [];
	const text = (customer: number) => `${name} answer c${customer}`;
	sockets.forEach((client, customer) => {
		onFrame(client, (frame, at) => {
			if (
				frame.type === "message" &&
				frame.data.from === "support" &&
				frame.data.text === text(customer)
			)
				latencies.push(at - (postedAt[customer] as number));
		});
	});
	const customers = [...threads.keys()].filter((customer) => (threads[customer] ?? 0) > 0);
	await paced(customers.length, options.perSecond, (k) => {
		const customer = customers[k] as number;
		postedAt[customer] = now();
		double.operatorPosts(threads[customer] as number, text(customer));
	});
	await until(() => latencies.length >= customers.length, options.timeoutMs);
	return {
		perSecond: options.perSecond,
		latency: summarize(latencies),
		expected: customers.length,
	};
}
