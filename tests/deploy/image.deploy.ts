/**
 * The image built from the Dockerfile, run the way a careful self-hoster runs it: as its
 * unprivileged user, no capabilities, a read-only root filesystem with /data the only writable
 * place, a memory limit, and its secrets as files. It serves the chat end to end against the Bot
 * API double on the host, and a backup taken inside the running container restores into a fresh
 * volume that a new container serves the same conversation from.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, tempDir } from "../support/process.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { showsText } from "../support/telegram-flow.ts";
import { api, connectSocket, type Envelope, initSession } from "../support/web-client.ts";
import { fresh, imageUnderTest, podman, podmanOk, removeAll, waitReady } from "./podman.ts";

const IMAGE = imageUnderTest();
/** The image's user, and the address at which slirp4netns shows a container the host's 127.0.0.1. */
const UID = 10001;
const HOST_LOOPBACK = "10.0.2.2";
const APP_SECRET = "an-application-secret-of-40-characters-x";

let tg: TelegramDouble;
const secrets: Record<string, string> = {};

beforeAll(() => {
	tg = startTelegramDouble();
	// As Docker secrets arrive: one file each, readable by the service's user only.
	const dir = tempDir("td-image-secrets-");
	for (const [name, value] of Object.entries({ bot_token: tg.token, app_secret: APP_SECRET })) {
		const path = join(dir, name);
		writeFileSync(path, `${value}\n`, { mode: 0o400 });
		chownSync(path, UID, UID);
		secrets[name] = path;
	}
});
afterAll(async () => {
	await removeAll();
	await tg?.close();
}, 60_000);

/** `podman run -d` of the image with the hardened settings, the secrets and `volume` on /data. */
async function runDesk(volume: string) {
	const name = fresh("containers");
	const port = freePort();
	const url = `http://127.0.0.1:${port}`;
	await podmanOk(
		"run",
		"-d",
		`--name=${name}`,
		"--read-only",
		"--read-only-tmpfs=false",
		"--ipc=none",
		"--cap-drop=ALL",
		"--security-opt=no-new-privileges",
		"--memory=1g",
		"--pids-limit=256",
		"--network=slirp4netns:allow_host_loopback=true",
		`--publish=127.0.0.1:${port}:3000`,
		`--volume=${volume}:/data`,
		`--volume=${secrets.bot_token}:/run/secrets/bot_token:ro`,
		`--volume=${secrets.app_secret}:/run/secrets/app_secret:ro`,
		"--env=BOT_TOKEN_FILE=/run/secrets/bot_token",
		"--env=APP_SECRET_FILE=/run/secrets/app_secret",
		`--env=SUPPORT_GROUP_ID=${tg.groupId}`,
		`--env=TELEGRAM_API_URL=${tg.url.replace("127.0.0.1", HOST_LOOPBACK)}`,
		`--env=PUBLIC_URL=${url}`,
		IMAGE,
	);
	await waitReady(name, `${url}/health/ready`);
	return { name, url };
}

/** A shell command inside the container, as its user. */
const inside = (container: string, script: string) =>
	podman("exec", container, "/bin/sh", "-c", script);

let desk: { name: string; url: string };
let volume: string;
const visitor = { sessionId: "", threadId: 0 };

describe("the image", () => {
	beforeAll(async () => {
		volume = fresh("volumes");
		await podmanOk("volume", "create", volume);
		desk = await runDesk(volume);
	}, 120_000);

	test("has no curl and no trace of the build's extra CA; its health check is topicdesk health", async () => {
		const [image] = JSON.parse(await podmanOk("image", "inspect", IMAGE)) as {
			User: string;
			Config: { Env: string[] };
			Healthcheck: { Test: string[] };
		}[];
		expect(image?.User).toBe("topicdesk");
		expect(image?.Healthcheck.Test).toEqual(["CMD", "/usr/local/bin/topicdesk", "health"]);
		expect(JSON.stringify(image?.Config.Env)).not.toContain("NODE_EXTRA_CA_CERTS");
		const history = await podmanOk("history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE);
		expect(history).not.toContain("NODE_EXTRA_CA_CERTS");
		expect(history).not.toContain("extra-ca");
		const curl = await inside(desk.name, "command -v curl wget || echo none");
		expect(curl.stdout).toBe("none");
		const check = await podman("healthcheck", "run", desk.name);
		expect(check.code).toBe(0);
	});

	test("runs as its own user without capabilities; /data is the only writable place", async () => {
		expect((await inside(desk.name, "id -u")).stdout).toBe(String(UID));
		const status = (await inside(desk.name, "grep ^Cap /proc/1/status")).stdout;
		expect(status.split("\n").map((line) => line.split(/\s+/)[1])).toEqual(
			Array(5).fill("0000000000000000"),
		);
		const places = ["/", "/tmp", "/var/tmp", "/run", "/etc", "/usr/local/bin", "/dev/shm", "/data"];
		const writable = await inside(
			desk.name,
			`for d in ${places.join(" ")}; do touch "$d/.probe" 2>/dev/null && echo "$d"; done`,
		);
		expect(writable.stdout.split("\n")).toEqual(["/data"]);
	});

	test("serves the chat: a visitor's message reaches a topic, the operator's reply the WebSocket", async () => {
		const ready = await api<Envelope<{ checks: Record<string, { ok: boolean }> }>>(
			desk.url,
			"GET",
			"/health/ready",
		);
		expect(ready.body.data.checks.bot?.ok).toBe(true);
		const { sessionId } = await initSession(desk.url);
		visitor.sessionId = sessionId;
		const socket = connectSocket(desk.url, `?session=${sessionId}`);
		await socket.next("connected");
		const sent = await api(desk.url, "POST", "/api/chat/message", {
			session: sessionId,
			body: { text: "Is my parcel on its way?" },
		});
		expect(sent.status).toBe(201);
		const posted = await tg.waitForCall(
			(call) => call.method === "sendMessage" && showsText(call, "[WEB] Is my parcel on its way?"),
			{ timeoutMs: 20_000 },
		);
		visitor.threadId = Number(posted.params.message_thread_id);
		expect(visitor.threadId).toBeGreaterThan(0);
		tg.operatorPosts(visitor.threadId, "Yes, it left this morning.");
		const reply = await socket.next((frame) => frame.data.from === "support", 20_000);
		expect(reply.data).toMatchObject({ text: "Yes, it left this morning.", channel: "telegram" });
		socket.close();
	}, 60_000);

	test("backup in the running container; restored into a fresh volume, a new container keeps the conversation", async () => {
		await tg.waitForUpdateConfirmed();
		const backup = await podman("exec", desk.name, "topicdesk", "backup", "/data/backup.tar.gz");
		expect(backup.code).toBe(0);
		expect(backup.stdout).toContain("backup: wrote /data/backup.tar.gz");
		await podmanOk("stop", "--time=10", desk.name);
		expect(await podmanOk("inspect", "--format", "{{.State.ExitCode}}", desk.name)).toBe("0");

		const restored = fresh("volumes");
		await podmanOk("volume", "create", restored);
		const restore = await podman(
			"run",
			"--rm",
			"--read-only",
			"--read-only-tmpfs=false",
			"--cap-drop=ALL",
			"--network=none",
			`--volume=${volume}:/old:ro`,
			`--volume=${restored}:/data`,
			IMAGE,
			"restore",
			"/old/backup.tar.gz",
		);
		expect(restore.code).toBe(0);
		expect(restore.stdout).toContain(
			"restore: /data now holds the database from /old/backup.tar.gz",
		);

		const again = await runDesk(restored);
		const history = await api<
			Envelope<{ messages: { text: string; from: string; seq: number }[] }>
		>(again.url, "GET", "/api/chat/history", { session: visitor.sessionId });
		expect(history.status).toBe(200);
		const messages = history.body.data.messages.toSorted((a, b) => a.seq - b.seq);
		expect(messages.map(({ text, from }) => [from, text])).toEqual([
			["user", "Is my parcel on its way?"],
			["support", "Yes, it left this morning."],
		]);
		// The conversation goes on in the same topic.
		const since = tg.calls.length;
		const sent = await api(again.url, "POST", "/api/chat/message", {
			session: visitor.sessionId,
			body: { text: "Thanks!" },
		});
		expect(sent.status).toBe(201);
		const posted = await tg.waitForCall(
			(call) => call.method === "sendMessage" && showsText(call, "[WEB] Thanks!"),
			{ since, timeoutMs: 20_000 },
		);
		expect(Number(posted.params.message_thread_id)).toBe(visitor.threadId);
	}, 180_000);
});
