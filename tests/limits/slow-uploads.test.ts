/**
 * Slow uploaders against the upload slots: bodies trickled over raw TCP from two addresses of one
 * network (told apart by X-Forwarded-For: the service trusts its one proxy here) hold at most the
 * per-address and per-network caps (more is 429 at once), so a visitor from elsewhere still
 * uploads; the trickles are cut with 408 once their average rate stays under the minimum, logged
 * as warnings, nothing of them stored, and their slots come back.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { sql } from "drizzle-orm";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { quotaDefaults } from "../../src/core/quotas.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { webQuotas } from "../../src/web/quota.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import { eventually } from "../support/telegram-flow.ts";
import { api, type Envelope } from "../support/web-client.ts";

/** The minimum rate is judged after this long: long enough to set the scene below first. */
const RATE_AFTER_SECONDS = 4;
/** Uploads at once on the instance: the attackers' network alone could take all but one. */
const AT_ONCE = quotaDefaults.concurrentUploadsPerNetwork + 1;

let db: TestDatabase;
let service: RunningService;
let config: Config;
const lines: { level: string; message: string }[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	const loaded = loadConfig(
		testEnv({
			db,
			env: { TRUST_PROXY: "true" },
			configFile: {
				rateLimits: { init: 10_000, upload: 10_000 },
				quotas: { concurrentUploads: AT_ONCE, uploadMinRateAfterSeconds: RATE_AFTER_SECONDS },
			},
		}),
	);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	config = loaded.config;
	const log = createLogger({
		level: "debug",
		json: true,
		write: (line) => lines.push(JSON.parse(line)),
	});
	service = await startService(loaded.config, { pglite: db.pglite, log });
}, 20_000);

afterAll(async () => {
	await service?.stop();
	await db?.drop();
}, 20_000);

const sessionFrom = async (ip: string) =>
	(
		await api<Envelope<{ sessionId: string }>>(service.url, "POST", "/api/chat/init", {
			headers: { "x-forwarded-for": ip },
		})
	).body.data.sessionId;

/** A small text file uploaded at full speed from `ip`. */
async function quickUpload(ip: string) {
	const form = new FormData();
	form.append("file", new File(["hello, a quick file"], "quick.txt", { type: "text/plain" }));
	const response = await fetch(`${service.url}/api/chat/upload`, {
		method: "POST",
		headers: { "x-session-id": await sessionFrom(ip), "x-forwarded-for": ip },
		body: form,
	});
	return { status: response.status, body: (await response.json()) as Envelope };
}

/**
 * An upload of a 100 KB text file over a raw socket, its body sent 50 bytes every 200 ms
 * (250 B/s), until the service answers; the answer's status and envelope.
 */
async function trickle(ip: string) {
	const session = await sessionFrom(ip);
	const { port } = new URL(service.url);
	const boundary = "trickle-boundary";
	const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\n`;
	const length = head.length + 100_000 + `\r\n--${boundary}--\r\n`.length;
	const socket = connect(Number(port), "127.0.0.1");
	socket.on("error", () => {});
	socket.write(
		`POST /api/chat/upload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Session-Id: ${session}\r\nX-Forwarded-For: ${ip}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n${head}`,
	);
	const drip = setInterval(() => socket.write("a".repeat(50)), 200);
	let received = "";
	return new Promise<{ status: number; body: Envelope }>((resolve, reject) => {
		socket.on("data", (data) => {
			received += data.toString("utf8");
			const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
			const json = received.slice(received.indexOf("\r\n\r\n") + 4);
			const body = json.slice(json.indexOf("{"), json.lastIndexOf("}") + 1);
			try {
				const parsed = JSON.parse(body) as Envelope;
				clearInterval(drip);
				socket.destroy();
				resolve({ status, body: parsed });
			} catch {
				// Not all of the answer yet.
			}
		});
		socket.on("close", () => {
			clearInterval(drip);
			reject(new Error(`closed without a whole answer: ${JSON.stringify(received)}`));
		});
	});
}

const media = async () =>
	Number(
		(await service.database.query<{ n: number }>(sql`select count(*)::int as n from media`))[0]?.n,
	);

test("slow uploaders of one network cannot lock out a visitor from elsewhere; they are cut with 408", async () => {
	const quotas = webQuotas({ core: service.core, config });
	const [first, second, neighbour] = ["198.51.100.10", "198.51.100.11", "198.51.100.12"];
	// Four slow uploads from each of two addresses: the network's eight.
	const slow = [
		...Array.from({ length: quotaDefaults.concurrentUploadsPerIp }, () => trickle(first as string)),
		...Array.from({ length: quotaDefaults.concurrentUploadsPerIp }, () =>
			trickle(second as string),
		),
	];
	await eventually(() => quotas.uploadsUnderWay() === quotaDefaults.concurrentUploadsPerNetwork);

	// One more from either address is over its cap; one from a third address of the same /24 is
	// over the network's: 429 at once, before any byte of them is read.
	for (const ip of [first, neighbour] as string[]) {
		const over = await quickUpload(ip);
		expect(over.status).toBe(429);
		expect(over.body.error.code).toBe("QUOTA_EXCEEDED");
	}
	// A visitor from another network finds the last slot of the instance free.
	const fresh = await quickUpload("203.0.113.7");
	expect(fresh.status).toBe(201);

	// The trickles are cut once their average stays under the minimum rate.
	const answers = await Promise.all(slow);
	for (const answer of answers) {
		expect(answer.status).toBe(408);
		expect(answer.body).toMatchObject({ success: false, error: { code: "UPLOAD_TOO_SLOW" } });
	}
	// Nothing of theirs is stored; their slots came back, so their addresses upload again.
	expect(await media()).toBe(1);
	await eventually(() => quotas.uploadsUnderWay() === 0);
	expect((await quickUpload(first as string)).status).toBe(201);
	// Logged as the client's problem (warnings), never as the service's (errors).
	const cut = lines.filter((line) => line.message === "upload cut off");
	expect(cut).toHaveLength(answers.length);
	expect(cut.every((line) => line.level === "warn")).toBe(true);
	expect(lines.filter((line) => line.level === "error")).toEqual([]);
}, 30_000);
