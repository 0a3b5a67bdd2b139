/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The rest of the widget, loaded by the loader (`loader.ts`) when the visitor shows intent. It
 * announces its start function with one event on `window`; the loader calls it with the launcher
 * it painted and its endpoints, and forwards `window.topicdesk` calls to what it returns.
 */
import { startWidget } from "./controller/start-widget.ts";
import { CHAT_EVENT, type StartChat } from "./handoff.ts";
import { type WidgetTexts, widgetTexts } from "./texts.ts";

declare const TOPICDESK_SERVER:
	| { texts?: { en?: Partial<WidgetTexts>; ru?: Partial<WidgetTexts> } }
	| undefined;

const server = typeof TOPICDESK_SERVER === "object" && TOPICDESK_SERVER ? TOPICDESK_SERVER : {};

const start: StartChat = (handoff) =>
	startWidget({
		...handoff,
		texts: { ...widgetTexts[handoff.locale], ...server.texts?.[handoff.locale] },
	});

dispatchEvent(new CustomEvent(CHAT_EVENT, { detail: start }));
