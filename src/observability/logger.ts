/**
 * Structured logs: JSON lines in production, readable lines in development. Secrets never go in
 * `fields`; the bot token is scrubbed from anything logged as a precaution.
 */
import { AsyncLocalStorage } from "node:async_hooks";

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

/**
 * Fields every line logged in the current asynchronous context carries: the web door enters
 * `{ requestId }` when a request arrives, so whatever the request causes is logged with it.
 */
export const logContext = new AsyncLocalStorage<Fields>();

/**
 * The line's `event`: the caller's stable name when given (`outbox.dead`), otherwise one derived
 * from the message, which is a constant string wherever no name is given.
 */
export function eventName(message: string): string {
	return (
		message
			.toLowerCase()
			.replace(/[^a-z0-9]+/g, "_")
			.replace(/^_+|_+$/g, "")
			.slice(0, 60) || "log"
	);
}

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
		const all = { ...logContext.getStore(), ...fields };
		const line = options.json
			? JSON.stringify({
					time: new Date().toISOString(),
					level,
					event: eventName(message),
					message,
					...all,
				})
			: `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${
					Object.keys(all).length ? ` ${JSON.stringify(all)}` : ""
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
