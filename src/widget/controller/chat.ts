/** The layers every part of the controller works with: texts, transport, store and view. */
import type { Store } from "../store.ts";
import type { WidgetTexts } from "../texts.ts";
import type { Http } from "../transport.ts";
import type { View } from "../view/view.ts";

export interface Chat {
	t: WidgetTexts;
	http: Http;
	store: Store;
	view: View;
	/** Tells the host page's listeners (`topicdesk.on`). */
	emit(event: string, data?: unknown): void;
	/** Sends an unexpected error to the service's error log. */
	report(error: unknown): void;
}
