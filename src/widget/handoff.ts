/**
 * What the loader hands the rest of the widget once it has loaded, and what it gets back. The
 * rest announces itself with one event on `window` carrying its start function, so the page gets
 * no second global; the loader keeps the launcher it painted, and the rest takes it over.
 *
 * A loader cached from an older build may meet a newer rest (an old hashed URL leads to the
 * current one): fields are only ever added here, never renamed or removed.
 */
import type { LauncherLocale } from "./launcher-texts.ts";
import type { Launcher } from "./view/launcher.ts";

export const CHAT_EVENT = "topicdesk:chat";

export interface Handoff {
	api: string;
	ws: string;
	locale: LauncherLocale;
	title?: string;
	/** The visitor as the site signed them (`data-user-*`). */
	identity?: Identity;
	/** The shadow root the launcher lives in; the panel goes beside it. */
	root: ShadowRoot;
	launcher: Launcher;
	emit(event: string, data?: unknown): void;
	report(error: unknown): void;
}

/** The widget's side of `window.topicdesk`; the loader forwards calls to it once it runs. */
export interface ChatControls {
	open(): void;
	close(): void;
	toggle(): void;
	/** `false`: nothing in storage from now on, and what was there is forgotten. */
	consent(allowed: boolean): void;
	/** The site's signed visitor (`topicdesk.identify`): this browser's conversation becomes theirs. */
	identify(identity: Identity): void;
	/** The site's logout: this browser forgets the conversation. */
	reset(): void;
}

/** A logged-in visitor as the site signs them: `hash` = hex HMAC-SHA256 of `userId`. */
export interface Identity {
	userId: string;
	hash: string;
	name?: string;
	email?: string;
	fields?: Record<string, string>;
}

export type StartChat = (handoff: Handoff) => ChatControls;
