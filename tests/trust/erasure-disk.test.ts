/**
 * Erased means erased on disk too: a visitor's text and uploaded file, a Telegram customer's text,
 * phone number and an update of theirs set aside as failed, and the operator's replies to both go
 * through the real service; the operator erases both customers with /erase; once the bot says
 * "erased for good", neither a backup taken afterwards nor the database's files hold any of it.
 *
 * On PGlite the backup is the real `topicdesk backup` (asked of the running service over its
 * control socket), searched after gunzip, and every file under DATA_DIR is searched too. On
 * PostgreSQL `backup` points to pg_dump, whose logical copy never holds dead rows; what can leak
 * are the database's own files, so every file of this database's directory on the server is read
 * (through `pg_read_binary_file`: the tests connect as a superuser) and searched. The server's WAL
 * is its operator's, not the service's, and is not searched.
 *
 * Before the erasure the same search finds every marker (so the test can fail); after it, a
 * customer nobody erased is still found.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { loadConfig } from "../../src/config/index.ts";
import { en } from "../../src/i18n/en.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { type RunningService, startService } from "../../src/service.ts";
import { runCommand } from "../ops/cli.ts";
import { freshDatabase, onPostgres, type TestDatabase } from "../support/db.ts";
import { tempDir } from "../support/process.ts";
import { testEnv } from "../support/service.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";
import { eventually, newUser, nextCall, topicIdOf } from "../support/telegram-flow.ts";
import { api, initSession } from "../support/web-client.ts";

let db: TestDatabase;
let tg: TelegramDouble;
let service: RunningService;
let dataDir: string;

beforeAll(async () => {
	// On PGlite the service opens DATA_DIR itself, as in production (not the run's shared PGlite).
	db = onPostgres ? await freshDatabase() : { engine: "pglite", drop: async () => {} };
	tg = startTelegramDouble();
	const env = testEnv({ db, double: tg });
	dataDir = env.DATA_DIR as string;
	const loaded = loadConfig(env);
	if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
	service = await startService(loaded.config, { log: silentLogger });
}, 60_000);
afterAll(async () => {
	await service?.stop();
	await tg?.close();
	await db?.drop();
}, 30_000);

const random = (prefix: string) => `${prefix}-${crypto.randomUUID().replaceAll("-", "")}`;
const PNG = Uint8Array.from(
	atob(
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
	),
	(c) => c.charCodeAt(0),
);
// Random bytes do not compress: the file is stored as it is, in the media table's TOAST.
const tail = crypto.getRandomValues(new Uint8Array(8192));
const fileBytes = new Uint8Array([...PNG, ...tail]);

const erased = {
	"visitor's text": random("webtext"),
	"reply to the visitor": random("webreply"),
	"uploaded file's bytes": Buffer.from(tail.subarray(100, 164)),
	"Telegram customer's text": random("tgtext"),
	"phone number": `+99${String(Math.random()).slice(2, 14)}`,
	"reply to the Telegram customer": random("tgreply"),
	"update set aside": random("poison"),
	"operator's update set aside": random("oppoison"),
};
const kept = random("kept");

type Files = { name: string; bytes: Buffer }[];

/** Every regular file under `dir`, recursively (the control socket is no file). */
function filesUnder(dir: string): Files {
	const files: Files = [];
	for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
		const path = join(entry.parentPath, entry.name);
		if (entry.isFile()) files.push({ name: path.slice(dir.length), bytes: readFileSync(path) });
	}
	return files;
}

/** What a backup taken now holds, and the database's files. */
async function diskNow(): Promise<Files> {
	if (onPostgres) {
		// Dirty pages reach the files at a checkpoint; the erasure's own rewrite has its checkpoint.
		await service.database.query(sql`checkpoint`);
		const rows = await service.database.query<{ name: string; bytes: Uint8Array }>(
			sql`select name, pg_read_binary_file(dir || '/' || name) as bytes
				from (select 'base/' || oid as dir from pg_database where datname = current_database()) d,
				lateral pg_ls_dir(dir) as name`,
		);
		expect(rows.length).toBeGreaterThan(50);
		return rows.map((row) => ({ name: row.name, bytes: Buffer.from(row.bytes ?? []) }));
	}
	const file = join(tempDir("td-erasure-backup-"), "backup.tar.gz");
	const saved = await runCommand(["backup", file], { DATA_DIR: dataDir, LOG_LEVEL: "warn" });
	expect(saved.stderr).toBe("");
	expect(saved.code).toBe(0);
	// Readable by its owner only: it holds every conversation.
	expect(statSync(file).mode & 0o777).toBe(0o600);
	const backup = { name: "backup", bytes: Buffer.from(Bun.gunzipSync(readFileSync(file))) };
	return [backup, ...filesUnder(dataDir)];
}

const holding = (files: Files, marker: string | Buffer) =>
	files.filter((file) => file.bytes.includes(marker)).map((file) => file.name);

/** /erase in the topic and "Erase all data"; resolves with the outcome the bot reports. */
async function erase(topicId: number, customerId: string) {
	let since = tg.calls.length;
	tg.operatorPosts(topicId, "/erase");
	const confirm = await nextCall(
		tg,
		since,
		(c) =>
			c.ok &&
			c.method === "sendMessage" &&
			Number(c.params.message_thread_id) === topicId &&
			JSON.stringify(c.params.reply_markup ?? "").includes("erase:yes:"),
	);
	since = tg.calls.length;
	const messageId = (confirm.result as { message_id: number }).message_id;
	tg.pressButton(tg.groupId, messageId, `erase:yes:${customerId}`);
	const outcome = await nextCall(
		tg,
		since,
		(c) =>
			c.method === "editMessageText" &&
			Number(c.params.message_id) === messageId &&
			(c.params.text === en.eraseDone || c.params.text === en.eraseScrubFailed),
		60_000,
	);
	return outcome.params.text;
}

async function stored(text: string) {
	await eventually(async () => {
		const [row] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from messages where text = ${text}`,
		);
		return Number(row?.n) > 0;
	});
}

async function topicOfCustomer(customerId: string) {
	return eventually(async () => {
		const [row] = await service.database.query<{ topic_id: number | null }>(
			sql`select topic_id from customers where id = ${customerId}`,
		);
		return row?.topic_id ? Number(row.topic_id) : undefined;
	});
}

describe("after /erase", () => {
	test("no backup and no database file holds the customers' texts, phone, replies or file", async () => {
		// A visitor on the web: a message and a file, and the operator's reply in their topic.
		const visitor = (await initSession(service.url)).sessionId;
		const sent = await api(service.url, "POST", "/api/chat/message", {
			session: visitor,
			body: { text: erased["visitor's text"] },
		});
		expect(sent.status).toBe(201);
		const form = new FormData();
		form.append("file", new File([fileBytes], "scan.png", { type: "image/png" }));
		const upload = await fetch(`${service.url}/api/chat/upload`, {
			method: "POST",
			headers: { "x-session-id": visitor },
			body: form,
		});
		expect(upload.status).toBe(201);
		const [session] = await service.database.query<{ id: string }>(
			sql`select customer_id as id from web_sessions where id = ${visitor}`,
		);
		const visitorId = session?.id as string;
		const visitorTopic = await topicOfCustomer(visitorId);
		tg.operatorPosts(visitorTopic, erased["reply to the visitor"]);
		await stored(erased["reply to the visitor"]);

		// A Telegram customer: a message, their phone number, the operator's reply, and an update
		// of theirs the database refuses (a message id too large to store), set aside as failed.
		const user = newUser("Tess");
		tg.customerSends(user, erased["Telegram customer's text"]);
		const userTopic = await topicIdOf(service, user.id);
		tg.customerSends(user, {
			contact: { phone_number: erased["phone number"], first_name: "Tess", user_id: user.id },
		});
		const reply = tg.operatorPosts(userTopic, erased["reply to the Telegram customer"]);
		await stored(erased["reply to the Telegram customer"]);
		// The operator's message in their topic, refused the same way.
		tg.pushUpdate({
			message: { ...reply, message_id: 3_000_000_001, text: erased["operator's update set aside"] },
		} as never);
		tg.pushUpdate({
			message: {
				message_id: 3_000_000_000,
				date: Math.floor(Date.now() / 1000),
				chat: { id: user.id, type: "private", first_name: user.first_name },
				from: { ...user, is_bot: false },
				text: erased["update set aside"],
			},
		} as never);
		const [customer] = await eventually(async () => {
			const rows = await service.database.query<{ id: string; phone: string | null }>(
				sql`select c.id, c.phone from customers c where c.telegram_user_id = ${user.id}
					and (select count(*) from failed_updates) = 2`,
			);
			return rows[0]?.phone ? rows : undefined;
		});
		const userId = customer?.id as string;

		const mentions = sql`select count(*)::int as n from outbox where payload::text like ${`%${user.id}%`}`;
		const [notice] = await service.database.query<{ n: number }>(mentions);
		expect(Number(notice?.n)).toBeGreaterThan(0);

		// Someone nobody erases.
		const other = (await initSession(service.url)).sessionId;
		const keep = await api(service.url, "POST", "/api/chat/message", {
			session: other,
			body: { text: kept },
		});
		expect(keep.status).toBe(201);

		// Column statistics quote sampled values; PostgreSQL's autovacuum gathers them on its own.
		await service.database.query(sql`analyze`);
		const [sampled] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from pg_stats where tablename = 'messages'
				and attname = 'text' and histogram_bounds::text like ${`%${erased["visitor's text"]}%`}`,
		);
		expect(Number(sampled?.n)).toBe(1);

		// The search works: before the erasure, every marker is on disk.
		const before = await diskNow();
		for (const [what, marker] of Object.entries(erased))
			expect({ what, in: holding(before, marker).length > 0 }).toEqual({ what, in: true });

		expect(await erase(visitorTopic, visitorId)).toBe(en.eraseDone);
		expect(await erase(userTopic, userId)).toBe(en.eraseDone);

		const after = await diskNow();
		for (const [what, marker] of Object.entries(erased))
			expect({ what, in: holding(after, marker) }).toEqual({ what, in: [] });
		expect(holding(after, kept).length).toBeGreaterThan(0);
		const [left] = await service.database.query<{ n: number }>(
			sql`select count(*)::int as n from failed_updates`,
		);
		expect(Number(left?.n)).toBe(0);
		// Nor do the General topic's notices about the set-aside update name the person's chat.
		const [notices] = await service.database.query<{ n: number }>(mentions);
		expect(Number(notices?.n)).toBe(0);
	}, 120_000);

	if (onPostgres) {
		test("a rewrite that cannot take its table lock is reported, and /erase again finishes it", async () => {
			const visitor = (await initSession(service.url)).sessionId;
			const text = random("locked");
			const sent = await api(service.url, "POST", "/api/chat/message", {
				session: visitor,
				body: { text },
			});
			expect(sent.status).toBe(201);
			const [session] = await service.database.query<{ id: string }>(
				sql`select customer_id as id from web_sessions where id = ${visitor}`,
			);
			const customerId = session?.id as string;
			const topicId = await topicOfCustomer(customerId);

			// A long reader (a report, a pg_dump) holds the messages table meanwhile.
			const reader = postgres(db.url as string, { max: 1, onnotice: () => {} });
			let finish = () => {};
			const held = new Promise<void>((resolve) => {
				finish = resolve;
			});
			let locked = () => {};
			const lockTaken = new Promise<void>((resolve) => {
				locked = resolve;
			});
			const reading = reader.begin(async (tx) => {
				await tx`lock table messages in access share mode`;
				locked();
				await held;
			});
			await lockTaken;
			try {
				expect(await erase(topicId, customerId)).toBe(en.eraseScrubFailed);
			} finally {
				finish();
				await reading;
				await reader.end();
			}
			expect(holding(await diskNow(), text).length).toBeGreaterThan(0);

			// The operator sends /erase again in the same topic: the owed rewrite is done now.
			expect(await erase(topicId, customerId)).toBe(en.eraseDone);
			expect(holding(await diskNow(), text)).toEqual([]);
		}, 120_000);
	}
});
