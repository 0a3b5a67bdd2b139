/**
 * `topicdesk health`, the image's HEALTHCHECK: exit 0 only when the service on the configured
 * port answers `/health/ready` with 200; a service that is not ready, not there, or hung is a
 * non-zero exit with a line saying why.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { freePort, spawnService, tempDir } from "../support/process.ts";
import { runCommand } from "./cli.ts";

const servers: { stop(force: boolean): unknown }[] = [];
afterAll(() => {
	for (const server of servers) server.stop(true);
});

/** A listener on 127.0.0.1 that answers every request with `respond`. */
function listener(respond: () => Response | Promise<Response>): number {
	const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: respond });
	servers.push(server);
	return server.port as number;
}

const health = (port: number, env: Record<string, string> = {}) =>
	runCommand(["health"], { PORT: String(port), DATA_DIR: tempDir("td-health-"), ...env });

describe("topicdesk health", () => {
	test("the running service, ready: exit 0", async () => {
		const child = await spawnService(
			["bun", "run", join(import.meta.dir, "..", "..", "src/index.ts")],
			{ DATA_DIR: tempDir("td-health-svc-") },
			{ readyPath: "/health/ready", timeoutMs: 60_000 },
		);
		try {
			const port = new URL(child.url).port;
			const result = await health(Number(port), { HOST: "127.0.0.1" });
			expect(result).toMatchObject({ code: 0, stdout: "health: ready\n" });
		} finally {
			await child.stop();
		}
	}, 90_000);

	test("listening on every address (HOST=0.0.0.0): asks the loopback address", async () => {
		const port = listener(() => Response.json({ success: true, data: { status: "ready" } }));
		const result = await health(port, { HOST: "0.0.0.0" });
		expect(result.code).toBe(0);
	});

	test("a service that is not ready (503): exit 1 with what is down", async () => {
		const port = listener(() =>
			Response.json(
				{
					success: false,
					error: { code: "NOT_READY", message: "Not ready: database (unreachable)" },
				},
				{ status: 503 },
			),
		);
		const result = await health(port);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain("answered 503: Not ready: database (unreachable)");
	});

	test("nothing listening on the port: exit 1", async () => {
		const result = await health(freePort());
		expect(result.code).toBe(1);
		expect(result.stderr).toContain(`health: http://127.0.0.1:`);
	});

	test("a service that never answers: exit 1 once the probe gives up", async () => {
		const port = listener(() => new Promise<Response>(() => {}));
		const result = await health(port);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain("no answer within");
	}, 20_000);

	test("an invalid environment is a failed probe too, not a pass", async () => {
		const result = await runCommand(["health"], { PORT: "nope" });
		expect(result.code).toBe(1);
		expect(result.stderr).toContain("PORT");
	});
});
