/** Where a subcommand writes: results to stdout, problems to stderr (tests pass their own). */
export interface Output {
	out(line: string): void;
	err(line: string): void;
}

export const processOutput: Output = {
	out: (line) => process.stdout.write(`${line}\n`),
	err: (line) => process.stderr.write(`${line}\n`),
};

/** What `backup`/`restore` say when the database is PostgreSQL: its own tools do it better. */
export function usePgTools(command: "backup" | "restore"): string {
	return command === "backup"
		? 'backup: DATABASE_URL is set, so the data lives in PostgreSQL. Back it up with pg_dump, e.g. pg_dump --format=custom --file=topicdesk.dump "$DATABASE_URL".'
		: 'restore: DATABASE_URL is set, so the data lives in PostgreSQL. Restore a pg_dump backup with pg_restore, e.g. pg_restore --clean --if-exists --dbname="$DATABASE_URL" topicdesk.dump.';
}
