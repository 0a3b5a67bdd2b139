/**
 * The one-time setup code, kept where every instance sharing the database sees it: its SHA-256
 * and expiry in `settings` ("setup.code"), never the code itself, so reading the database does
 * not open the page. The instance that issues a code logs it and keeps it in
 * `DATA_DIR/setup-code` (0600) for its operator. The save that stores the bot marks the code done
 * in the same transaction, under the code row's lock: whichever instance or click comes second
 * finds it done, and no second bot is stored or started.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import { ensurePrivateDir } from "../runtime/data-dir.ts";

export const SETUP_CODE_FILE = "setup-code";
/** How long a code opens the page; an expired one is replaced at the next start. */
export const SETUP_CODE_TTL = "24 hours";
const KEY = "setup.code";

/** What a presented code is worth: the page, "setup is already done", or nothing. */
export type CodeCheck = "open" | "done" | "refused";

export interface IssuedCode {
	/** The code, when this call issued it; undefined when a live one was issued earlier. */
	code?: string;
	hash: string;
	expiresAt: Date;
}

interface CodeRow {
	hash: string;
	done: boolean;
	live: boolean;
	expiresAt: string;
}

const hashOf = (code: string) => createHash("sha256").update(code).digest("hex");

const readRow = (lock: boolean) => sql`
	select value::jsonb ->> 'hash' as hash,
		coalesce((value::jsonb ->> 'done')::boolean, false) as done,
		(value::jsonb ->> 'expiresAt')::timestamptz > now() as live,
		value::jsonb ->> 'expiresAt' as "expiresAt"
	from settings where key = ${KEY}${lock ? sql` for update` : sql``}`;

/**
 * Issues a code unless a live one is stored (instances starting together agree on one): a code
 * that expired, or was used by a save whose bot is gone since, is replaced.
 */
export async function issueSetupCode(database: Database): Promise<IssuedCode> {
	const code = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
	const hash = hashOf(code);
	const [issued] = await database.query<{ expiresAt: string }>(sql`
		insert into settings (key, value)
		values (${KEY}, json_build_object(
			'hash', ${hash}::text, 'expiresAt', now() + ${SETUP_CODE_TTL}::interval)::text)
		on conflict (key) do update set value = excluded.value, updated_at = now()
		where coalesce((settings.value::jsonb ->> 'done')::boolean, false)
			or (settings.value::jsonb ->> 'expiresAt')::timestamptz <= now()
		returning value::jsonb ->> 'expiresAt' as "expiresAt"`);
	if (issued) return { code, hash, expiresAt: new Date(issued.expiresAt) };
	const [live] = await database.query<CodeRow>(readRow(false));
	if (!live) throw new Error("the setup code could not be stored");
	return { hash: live.hash, expiresAt: new Date(live.expiresAt) };
}

function judge(row: CodeRow | undefined, presented: string | null | undefined): CodeCheck {
	if (!row || !presented) return "refused";
	const a = Buffer.from(hashOf(presented));
	const b = Buffer.from(row.hash);
	if (a.length !== b.length || !timingSafeEqual(a, b)) return "refused";
	if (row.done) return "done";
	return row.live ? "open" : "refused";
}

/** What `presented` opens, as the database says now (another instance may have saved). */
export async function checkSetupCode(
	database: Database,
	presented: string | null | undefined,
): Promise<CodeCheck> {
	const [row] = await database.query<CodeRow>(readRow(false));
	return judge(row, presented);
}

/**
 * Stores the bot once: in one transaction holding the code row's lock, checks the code, runs
 * `store` (false: a bot is stored already) and marks the code done. "done" tells the second of
 * two saves, whichever instance it reached, that the first one won.
 */
export async function saveWithCode(
	database: Database,
	presented: string,
	store: (tx: Tx) => Promise<boolean>,
): Promise<"saved" | "done" | "refused"> {
	return database.db.transaction(async (tx) => {
		const [row] = await database.query<CodeRow>(readRow(true), tx);
		const check = judge(row, presented);
		if (check !== "open") return check;
		if (!(await store(tx))) return "done";
		await database.query(
			sql`update settings set value = jsonb_set(value::jsonb, '{done}', 'true')::text,
				updated_at = now() where key = ${KEY}`,
			tx,
		);
		return "saved";
	});
}

/** Keeps the code this instance issued for its operator; a failure costs only the copy. */
export function rememberCode(dataDir: string, code: string) {
	ensurePrivateDir(dataDir);
	writeFileSync(join(dataDir, SETUP_CODE_FILE), `${code}\n`, { mode: 0o600 });
}

/** The code this instance kept earlier, if it is the live one. */
export function recallCode(dataDir: string, hash: string): string | undefined {
	try {
		const code = readFileSync(join(dataDir, SETUP_CODE_FILE), "utf8").trim();
		return hashOf(code) === hash ? code : undefined;
	} catch {
		return undefined;
	}
}

export function forgetCode(dataDir: string) {
	rmSync(join(dataDir, SETUP_CODE_FILE), { force: true });
}
