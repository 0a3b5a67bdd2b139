/**
 * One Bot API call on the wire: a POST to `<TELEGRAM_API_URL>/bot<token>/<method>` with Bun's
 * `fetch`, which keeps connections alive and sends through the proxy named by HTTPS_PROXY /
 * HTTP_PROXY (except for the hosts in NO_PROXY). Parameters go as a JSON body, or as multipart
 * when they upload a file; text built with GramIO's `format` goes as text plus entities. Telegram's
 * refusal (`ok: false`) is GramIO's `TelegramError`, carrying the code, the description and
 * `retry_after`; a connection that fails or an answer that is not JSON rejects as `fetch` does.
 */
import {
	type APIMethods,
	convertJsonToFormData,
	FormattableMap,
	isMediaUpload,
	TelegramError,
} from "gramio";

/** Sends one call and answers with its `result`; `signal` ends it. */
export type BotCall = (
	method: string,
	params: object | undefined,
	signal: AbortSignal,
) => Promise<unknown>;

export function createBotTransport(apiRoot: string, token: string): BotCall {
	const endpoint = `${apiRoot}/bot${token}/`;
	return async (method, params, signal) => {
		const response = await fetch(endpoint + method, {
			method: "POST",
			...(await encode(method as keyof APIMethods, params ?? {})),
			signal,
		});
		const answer = (await response.json()) as ApiResponse;
		if (!answer.ok) throw new TelegramError(answer, method as never, params as never);
		return answer.result;
	};
}

type ApiResponse =
	| { ok: true; result: unknown }
	| { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } };

/** Bun's `fetch` gives a string body no JSON content type of its own. */
const JSON_HEADERS = { "content-type": "application/json" };

/**
 * The request body for `params`. GramIO's `FormattableMap` moves a formatted text's entities
 * beside it, in place, as GramIO's own calls do. `fetch` writes multipart's content type, with
 * its boundary, itself.
 */
async function encode(method: keyof APIMethods, params: object): Promise<RequestInit> {
	const decompose = FormattableMap[method] as ((params: object) => object) | undefined;
	const ready = (decompose ? decompose(params) : params) as never;
	if (isMediaUpload(method, ready)) return { body: await convertJsonToFormData(method, ready) };
	return { body: JSON.stringify(ready), headers: JSON_HEADERS };
}
