/**
 * What an instance says about itself on /health/ready: whether it polls Telegram ("polling") or
 * stands by ("standby"), and how its events travel ("listen/notify" between instances).
 */
import { now, sleep } from "./support/clock.ts";

export interface Role {
	bot: string;
	events: string;
}

interface Check {
	ok: boolean;
	detail: string;
}

export async function roleOf(url: string): Promise<Role> {
	const body = (await (await fetch(`${url}/health/ready`)).json()) as {
		data?: { checks?: Record<string, Check> };
		checks?: Record<string, Check>;
	};
	const checks = body.data?.checks ?? body.checks ?? {};
	return { bot: checks.bot?.detail ?? "?", events: checks.events?.detail ?? "?" };
}

/** Waits until the instance's bot check reads `detail`; answers how long that took (ms). */
export async function waitForRole(url: string, detail: string, timeoutMs = 15_000) {
	const started = now();
	for (;;) {
		const role = await roleOf(url).catch(() => undefined);
		if (role?.bot === detail) return now() - started;
		if (now() - started > timeoutMs)
			throw new Error(`${url}: bot "${role?.bot}", not "${detail}" within ${timeoutMs} ms`);
		await sleep(50);
	}
}

export const describeRole = (role: Role) => `${role.bot} (events: ${role.events})`;
