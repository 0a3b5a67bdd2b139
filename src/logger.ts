/**
 * Structured logs: JSON lines in production, readable lines in development. Secrets never go in
 * `fields`; the bot token is scrubbed from anything logged as a precaution.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
type Fields = Record<string, unknown>;

export interface Logger {
	debug(message: string, fields?: Fields): void;
	info(message: string, fields?: Fields): void;
	warn(message: string, fields?: Fields): void;
	error(message: string, fields?: Fields): void;
	/** Scrubs one more secret from every later line (a bot token saved by the setup page). */
	redact?(secret: string): void;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: {
	level: LogLevel;
	json: boolean;
	secrets?: string[];
	write?: (line: string) => void;
}): Logger {
	const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
	const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
	const scrub = (text: string) =>
		secrets.reduce((out, secret) => out.split(secret).join("[redacted]"), text);
	const emit = (level: LogLevel, message: string, fields?: Fields) => {
		if (order[level] < order[options.level]) return;
		const line = options.json
			? JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })
			: `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${
					fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ""
				}`;
		write(scrub(line));
	};
	return {
		debug: (m, f) => emit("debug", m, f),
		info: (m, f) => emit("info", m, f),
		warn: (m, f) => emit("warn", m, f),
		error: (m, f) => emit("error", m, f),
		redact(secret) {
			if (secret.length >= 8 && !secrets.includes(secret)) secrets.push(secret);
		},
	};
}

/** A logger that drops everything (tests that do not read logs). */
export const silentLogger: Logger = createLogger({ level: "error", json: true, write: () => {} });
