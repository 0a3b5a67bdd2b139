/**
 * `topicdesk health`: asks the service on this machine's configured port for `/health/ready` and
 * exits 0 when it answers ready, 1 otherwise. It is the image's HEALTHCHECK, so the runtime image
 * needs no HTTP client of its own; the timeout stays under the orchestrator's, so a hung service
 * is reported as unhealthy rather than killed mid-probe.
 */
import type { Config } from "../config/index.ts";
import type { Output } from "./output.ts";

const TIMEOUT_MS = 2_000;

/** Where the listener is reachable from this machine: a wildcard address means loopback. */
function probeUrl({ host, port }: Pick<Config, "host" | "port">): string {
	const local = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
	return `http://${local.includes(":") ? `[${local}]` : local}:${port}/health/ready`;
}

export async function health(config: Config, io: Output): Promise<number> {
	if (config.port === 0) {
		io.err("health: PORT is 0 (any free port), so there is no known port to ask; set PORT.");
		return 1;
	}
	const url = probeUrl(config);
	let response: Response;
	try {
		response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "manual" });
	} catch (error) {
		const reason =
			error instanceof Error && error.name === "TimeoutError"
				? `no answer within ${TIMEOUT_MS} ms`
				: String(error instanceof Error ? error.message : error);
		io.err(`health: ${url}: ${reason}`);
		return 1;
	}
	const body = (await response.json().catch(() => undefined)) as
		| { error?: { message?: string } }
		| undefined;
	if (response.status === 200) {
		io.out("health: ready");
		return 0;
	}
	io.err(`health: ${url} answered ${response.status}: ${body?.error?.message ?? "not ready"}`);
	return 1;
}
