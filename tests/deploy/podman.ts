/**
 * The container engine as an operator drives it: `podman` commands, and the containers and
 * volumes a test file made, removed when it ends. The image under test is the one CI built from
 * the Dockerfile (`.ci/container` names it in TOPICDESK_IMAGE).
 */
export interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

export function imageUnderTest(): string {
	const image = process.env.TOPICDESK_IMAGE;
	if (!image) throw new Error("TOPICDESK_IMAGE is not set: run these tests through .ci/container");
	return image;
}

export async function podman(...args: string[]): Promise<Run> {
	const proc = Bun.spawn(["podman", ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { code, stdout: stdout.trim(), stderr };
}

/** A podman command that must succeed; its output, trimmed. */
export async function podmanOk(...args: string[]): Promise<string> {
	const run = await podman(...args);
	if (run.code !== 0)
		throw new Error(`podman ${args.join(" ")} exited ${run.code}:\n${run.stderr}${run.stdout}`);
	return run.stdout;
}

/** Names of what a test file created, for `removeAll`. */
const made = { containers: [] as string[], volumes: [] as string[] };

/** A fresh name for a container or volume of this run. */
export function fresh(kind: "containers" | "volumes"): string {
	const name = `topicdesk-ci-${crypto.randomUUID().slice(0, 8)}`;
	made[kind].push(name);
	return name;
}

export async function removeAll() {
	for (const name of made.containers.splice(0)) await podman("rm", "-f", "-t", "0", name);
	for (const name of made.volumes.splice(0)) await podman("volume", "rm", "-f", name);
}

/** Waits until `url` answers 200, or the container has exited, or `timeoutMs` passed. */
export async function waitReady(container: string, url: string, timeoutMs = 90_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const status = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
			(response) => response.status,
			() => 0,
		);
		if (status === 200) return;
		const state = await podmanOk("inspect", "--format", "{{.State.Status}}", container);
		if (state === "exited" || Date.now() > deadline) {
			const logs = await podman("logs", container);
			throw new Error(
				`${container} not ready (${state}, last ${status}):\n${logs.stdout}${logs.stderr}`,
			);
		}
		await Bun.sleep(250);
	}
}
