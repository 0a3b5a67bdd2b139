/**
 * deploy/compose.yaml as a compose tool reads it: podman-compose resolves the file and its
 * variables and prints the `podman run` of each service without starting any (`--dry-run`), and
 * those commands must carry the hardening: no capabilities beyond what each needs, read-only
 * roots, memory limits, secrets as files and never as variables, the image names overridable
 * with the official images as defaults.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { podman } from "./podman.ts";

const DEPLOY = join(import.meta.dir, "..", "..", "deploy");
const REQUIRED = {
	DOMAIN: "support.example.com",
	SUPPORT_GROUP_ID: "-1001234567890",
	ALLOWED_ORIGINS: "shop.example.com",
};
const projects: string[] = [];

// The dry run of podman-compose still creates the project's volumes and network.
afterAll(async () => {
	for (const project of projects) {
		const volumes = await podman(
			"volume",
			"ls",
			"--quiet",
			`--filter=label=io.podman.compose.project=${project}`,
		);
		for (const volume of volumes.stdout.split("\n").filter(Boolean))
			await podman("volume", "rm", volume);
		await podman("network", "rm", `${project}_default`);
	}
});

/** podman-compose's `podman run` line of each service, keyed by service, for `env`. */
async function dryRun(env: Record<string, string>) {
	const project = `topicdesk-ci-${crypto.randomUUID().slice(0, 8)}`;
	projects.push(project);
	const proc = Bun.spawn(
		[
			"podman-compose",
			"--project-name",
			project,
			"--dry-run",
			"--file",
			"compose.yaml",
			"up",
			"-d",
		],
		{
			cwd: DEPLOY,
			env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
			stdout: "pipe",
			stderr: "pipe",
		},
	);
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	const runs: Record<string, string> = {};
	for (const line of stdout.split("\n")) {
		const name = new RegExp(`^podman run --name=${project}_(.+?)_1 `).exec(line)?.[1];
		if (name) runs[name] = line;
	}
	return { code, stderr, runs };
}

describe("deploy/compose.yaml", () => {
	test("the official images by default; each service hardened; secrets as files only", async () => {
		const { code, stderr, runs } = await dryRun(REQUIRED);
		expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
		expect(Object.keys(runs).sort()).toEqual(["caddy", "postgres", "topicdesk-1", "topicdesk-2"]);
		for (const run of Object.values(runs)) {
			expect(run).toContain(" --read-only ");
			expect(run).toContain(" --cap-drop ALL ");
			expect(run).toContain(" --security-opt no-new-privileges:true ");
			expect(run).toMatch(/ -m \d+[mg] /);
		}
		for (const service of ["topicdesk-1", "topicdesk-2"]) {
			const run = runs[service] ?? "";
			expect(run).not.toContain("--cap-add");
			expect(run).toEndWith(" topicdesk:latest");
			for (const secret of ["database_url", "app_secret", "bot_token"]) {
				const variable = secret.toUpperCase();
				expect(run).toContain(` -e ${variable}_FILE=/run/secrets/${secret} `);
				expect(run).toContain(`:/run/secrets/${secret}:ro`);
				expect(run).not.toContain(` -e ${variable}=`);
			}
			expect(run).toContain(" -e TRUST_PROXY=true ");
			// Only Caddy publishes ports.
			expect(run).not.toMatch(/ -p /);
			expect(run).toMatch(/--healthcheck-command .*\/usr\/local\/bin\/topicdesk.*health/);
		}
		expect(runs.postgres).toEndWith(" postgres:17");
		expect(runs.postgres).toContain(" -e POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password ");
		expect(runs.caddy).toEndWith(" caddy:2");
		expect(runs.caddy).toContain(" --cap-add NET_BIND_SERVICE ");
	}, 60_000);

	test("image names and memory limits come from variables", async () => {
		const { runs } = await dryRun({
			...REQUIRED,
			TOPICDESK_IMAGE: "localhost/mirror/topicdesk:1.2",
			POSTGRES_IMAGE: "localhost/mirror/postgres:17",
			CADDY_IMAGE: "localhost/mirror/caddy:2",
			TOPICDESK_MEMORY: "768m",
		});
		expect(runs["topicdesk-1"]).toEndWith(" localhost/mirror/topicdesk:1.2");
		expect(runs["topicdesk-1"]).toContain(" -m 768m ");
		expect(runs.postgres).toEndWith(" localhost/mirror/postgres:17");
		expect(runs.caddy).toEndWith(" localhost/mirror/caddy:2");
	}, 60_000);

	test("a required variable left out stops compose with its message", async () => {
		const { DOMAIN: _, ...withoutDomain } = REQUIRED;
		const { code, stderr } = await dryRun(withoutDomain);
		expect(code).not.toBe(0);
		expect(stderr).toContain("set DOMAIN");
	}, 60_000);
});
