/**
 * Webhook mode: at startup the webhook is registered with Telegram, retried with
 * backoff until Telegram accepts it, without holding up startup (the web chat works meanwhile and
 * Telegram keeps the updates). The updates themselves arrive at `POST /telegram/webhook`
 * (src/web/webhook-routes.ts).
 */
import type { Logger } from "../observability/logger.ts";
import { type BotApi, classifyFailure } from "./bot-api.ts";
import { retryLoop } from "./retry-loop.ts";

/** The update types the router handles; Telegram keeps the others to itself. */
export const ALLOWED_UPDATES = ["message", "edited_message", "callback_query"] as const;

export interface WebhookRegistration {
	start(): void;
	stop(): Promise<void>;
	/** Readiness: "webhook" once set (or while the first attempt runs), "webhook not set" after a failure. */
	status(): { ok: boolean; detail: string };
}

export interface WebhookRegistrationOptions {
	api: BotApi;
	url: string;
	secret: string;
	log: Logger;
	/** First pause after a failure; doubles up to one minute. Default 1 s. */
	retryMs?: number;
}

export function createWebhookRegistration(
	options: WebhookRegistrationOptions,
): WebhookRegistration {
	const { api, log } = options;
	const retryMs = options.retryMs ?? 1000;
	const abort = new AbortController();
	let started = false;
	// Optimistic until an attempt failed, like the poller: Telegram may take a moment to answer.
	let state: "pending" | "set" | "failing" = "pending";

	async function run() {
		// Every attempt before this one failed: a successful one ends the loop.
		await retryLoop(abort.signal, async (failures) => {
			try {
				await api.setWebhook({
					url: options.url,
					secret_token: options.secret,
					allowed_updates: [...ALLOWED_UPDATES],
					// One update at a time, in order, as with polling: a customer's messages must not
					// overtake each other, whichever instance answers.
					max_connections: 1,
				});
				state = "set";
				log.info("Telegram webhook set", { url: options.url });
				return "done";
			} catch (error) {
				if (abort.signal.aborted) return "done";
				state = "failing";
				const failure = classifyFailure(error);
				const pause =
					failure.kind === "flood"
						? failure.retryAfterMs
						: Math.min(60_000, retryMs * 2 ** Math.min(failures, 6));
				log.warn("setWebhook failed; retrying", {
					error: failure.description,
					failures: failures + 1,
					retryInMs: pause,
				});
				return pause;
			}
		});
	}

	return {
		start() {
			if (started) return;
			started = true;
			void run();
		},
		async stop() {
			// A call in flight is not awaited: the client's shutdown abort ends it.
			abort.abort();
		},
		status() {
			return state === "failing"
				? { ok: false, detail: "webhook not set" }
				: { ok: true, detail: "webhook" };
		},
	};
}
