/**
 * What the visitor is told when something fails: one line in the panel, in words. A cause that is
 * not an answer of the service (a bug here) is also reported to the service.
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

export function createAlerts({ t, view, report }: Chat, dropSession: () => void) {
	function show(e: unknown) {
		view.alert(e instanceof ApiError && e.code === "NETWORK" ? t.offline : refusal(t, e));
		if (!(e instanceof ApiError)) report(e);
	}
	return {
		show,
		/** Runs an action of the visitor; its failure is shown in words, never thrown. */
		task(action: () => Promise<void>) {
			view.alert("");
			action().catch((e) => {
				if (gone(e)) dropSession();
				show(e);
			});
		},
	};
}

export type Alerts = ReturnType<typeof createAlerts>;
