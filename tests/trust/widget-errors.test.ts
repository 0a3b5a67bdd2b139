/**
 * `POST /api/widget/errors` as an attacker would use it: from a site not allowed to embed the
 * widget, or with no Origin at all, it is refused (403) and nothing reaches the logs; from an
 * allowed site, the page's URLs are logged without their query strings and fragments (where
 * tokens live), and however large the reports, at most 1 KB of them is logged per request.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { testEnv } from "../support/service.ts";
import { api, type Envelope } from "../support/web-client.ts";

const MARK = "report-marker-51c2";
const ALLOWED = "https://shop.example.com";

let db: TestDatabase;
let service: RunningService;
const lines: string[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	const loaded = loadConfig(
		testEnv({ db, env: { ALLOWED_ORIGINS: "example.com" }, configFile: {} }),
	);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	const log = createLogger({ level: "debug", json: true, write: (line) => lines.push(line) });
	service = await startService(loaded.config, { pglite: db.pglite, log });
}, 20_000);

afterAll(async () => {
	await service?.stop();
	await db?.drop();
}, 20_000);

const report = (errors: unknown[], origin?: string) =>
	api<Envelope<{ processed: number }>>(service.url, "POST", "/api/widget/errors", {
		headers: origin ? { origin } : {},
		body: { errors },
	});

/** The `widget error` lines logged since `since`, parsed. */
const logged = (since: number) =>
	lines
		.slice(since)
		.map((line) => JSON.parse(line) as { message: string; origin?: string; reports?: string[] })
		.filter((line) => line.message === "widget error");

test("a report from a site not allowed, or without an Origin, is refused and not logged", async () => {
	const since = lines.length;
	for (const origin of ["https://evil.test", "https://example.com.evil.test", "null", undefined]) {
		const response = await report([{ message: `${MARK} from ${origin}` }], origin);
		expect(response.status).toBe(403);
		expect(response.body.error.code).toBe("ORIGIN_NOT_ALLOWED");
	}
	expect(lines.slice(since).filter((line) => line.includes(MARK))).toEqual([]);
});

test("URLs in a report are logged without their query string and fragment", async () => {
	const since = lines.length;
	const response = await report(
		[
			{
				message: `${MARK} failed to load https://cdn.example.com/app.js?sig=secret-one`,
				url: "https://shop.example.com/checkout?token=secret-two#frag-three",
			},
			`see http://shop.example.com/account#secret-four`,
		],
		ALLOWED,
	);
	expect(response.status).toBe(200);
	const [line] = logged(since);
	expect(line?.origin).toBe(ALLOWED);
	const text = JSON.stringify(line?.reports);
	expect(text).toContain(MARK);
	expect(text).toContain("https://shop.example.com/checkout");
	expect(text).toContain("https://cdn.example.com/app.js");
	expect(text).toContain("http://shop.example.com/account");
	for (const secret of ["secret-one", "secret-two", "frag-three", "secret-four", "token=", "sig="])
		expect(lines.slice(since).join("\n")).not.toContain(secret);
});

test("a huge report logs at most 1 KB of page text per request", async () => {
	const since = lines.length;
	const huge = Array.from({ length: 10 }, (_, i) => ({
		message: `${MARK} ${i} ${"x".repeat(90_000)}`,
		stack: "y".repeat(5_000),
	}));
	const response = await report(huge, ALLOWED);
	expect(response.status).toBe(200);
	expect(response.body.data.processed).toBe(10);
	const written = logged(since);
	expect(written).toHaveLength(1);
	const [line] = written;
	const pageText = (line?.reports ?? []).join("").length + (line?.origin ?? "").length;
	expect(pageText).toBeGreaterThan(0);
	expect(pageText).toBeLessThanOrEqual(1024);
	// Everything the request caused in the logs, page text and our own fields, stays small.
	const total = lines.slice(since).reduce((sum, text) => sum + text.length, 0);
	expect(total).toBeLessThan(2048);
});
