/**
 * What the visitor is told outside the log: a failure, in words, on the alert line (a cause that
 * is not an answer of the service, a bug here, is also reported), and the connection banner.
 */
import type { WidgetTexts } from "../texts.ts";
import { ApiError } from "../transport.ts";
import type { Chat } from "./chat.ts";

/** The service no longer knows the session: a new one is needed. */
export const gone = (e: unknown) =>
	e instanceof ApiError && (e.code === "SESSION_NOT_FOUND" || e.status === 401);

/** The words for a refusal: its code's own text, else the generic one. */
export const refusal = (t: WidgetTexts, e: unknown) =>
	t[`err_${e instanceof ApiError ? e.code : ""}` as keyof WidgetTexts] ?? t.err_generic;

export function showError({ t, view, config }: Chat, e: unknown) {
	view.alert(e instanceof ApiError && e.code === "NETWORK" ? t.offline : refusal(t, e));
	if (!(e instanceof ApiError)) config.report(e);
}

/** "Reconnecting…" (or offline) while the socket is down or catching up and there is a conversation. */
export function banner({ t, view, live, session, store }: Chat) {
	view.setBanner(
		live || !(session || store.pending.length) ? "" : navigator.onLine ? t.reconnecting : t.offline,
	);
}
