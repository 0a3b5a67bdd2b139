/**
 * A throwaway PostgreSQL database per benchmark run, on the server named by BENCH_DATABASE_URL.
 * BENCH_KEEP_DB=1 keeps it after the run (to look into its tables, statistics or WAL).
 */
import postgres from "postgres";

export const DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:55432/postgres";

export interface BenchDatabase {
	url: string;
	/** `PostgreSQL 15.18` */
	version: string;
	drop(): Promise<void>;
}

const HOW_TO_START = `No PostgreSQL server answered. Start one, e.g.
  docker run -d --name topicdesk-bench-pg -p 55432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16
or, with the PostgreSQL binaries installed:
  initdb -D /tmp/bench-pg -U postgres -A trust && pg_ctl -D /tmp/bench-pg -o "-p 55432 -k /tmp" -l /tmp/bench-pg.log start
or point BENCH_DATABASE_URL at a server where the user may CREATE DATABASE.`;

export async function createBenchDatabase(): Promise<BenchDatabase> {
	const serverUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL;
	const admin = () => postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
	const name = `bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
	const sql = admin();
	let version: string;
	try {
		const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
		version = `PostgreSQL ${row?.v ?? "?"}`;
		await sql.unsafe(`create database ${name}`);
	} catch (error) {
		const code = (error as { code?: string }).code;
		if (code === "ECONNREFUSED" || code === "CONNECT_TIMEOUT" || code === "ENOTFOUND")
			throw new Error(`${serverUrl}: ${String(error)}\n${HOW_TO_START}`);
		throw error;
	} finally {
		await sql.end();
	}
	const url = new URL(serverUrl);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		version,
		async drop() {
			if (process.env.BENCH_KEEP_DB === "1") return;
			const sql = admin();
			try {
				await sql.unsafe(`drop database if exists ${name} with (force)`);
			} finally {
				await sql.end();
			}
		},
	};
}
