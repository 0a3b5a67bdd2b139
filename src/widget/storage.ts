/**
 * The widget's only door to localStorage. Merely reading `window.localStorage` throws when the
 * visitor blocks cookies, and the storage belongs to the host site, so every key is prefixed and
 * every access guarded, with an in-memory copy as the fallback.
 *
 * Nothing is written before the visitor opens the chat: the callers write only once a session
 * exists, and reading needs no probe write. A site that has no consent for storage calls
 * `consent(false)`: what was stored is forgotten and the conversation lives in memory only.
 */
const PREFIX = "topicdesk:";
const memory = new Map<string, string>();
let allowed = true;

/** The keys, one home for the loader (which reads them) and the rest (which writes them). */
export const KEYS = {
	session: "session",
	pending: "pending",
	/** The `seq` of the last message the visitor saw: a number in their own conversation. */
	read: "read",
	/**
	 * Where that mark was kept while `seq` counted every message of the desk: such a number is far
	 * above the conversation's own and would hide every new reply.
	 */
	legacyRead: "readSeq",
	/** The `userId` this browser's session was verified as, so later page views need no `init`. */
	identified: "identified",
	/** The unread count last shown, so the loader paints the badge before the rest loads. */
	unread: "unread",
} as const;

function backing(): Storage | null {
	if (!allowed) return null;
	try {
		return window.localStorage;
	} catch {
		return null;
	}
}

export function load(key: string): string | null {
	try {
		const value = backing()?.getItem(PREFIX + key);
		if (value != null) return value;
	} catch {}
	return memory.get(key) ?? null;
}

/** `null` removes the key. */
export function save(key: string, value: string | null): void {
	if (value === null) memory.delete(key);
	else memory.set(key, value);
	try {
		const store = backing();
		if (value === null) store?.removeItem(PREFIX + key);
		else store?.setItem(PREFIX + key, value);
	} catch {}
}

/**
 * `false`: the stored values move to memory (this page view goes on as it was) and leave
 * storage. `true` again: what this page view holds is stored from now on.
 */
export function setConsent(yes: boolean): void {
	if (yes === allowed) return;
	try {
		const store = window.localStorage;
		if (yes) for (const [key, value] of memory) store.setItem(PREFIX + key, value);
		else
			for (let i = store.length; i-- > 0; ) {
				const name = store.key(i);
				if (!name?.startsWith(PREFIX)) continue;
				memory.set(name.slice(PREFIX.length), store.getItem(name) ?? "");
				store.removeItem(name);
			}
	} catch {}
	allowed = yes;
}

export function loadJson<T>(key: string, fallback: T): T {
	try {
		return (JSON.parse(load(key) ?? "null") as T) ?? fallback;
	} catch {
		return fallback;
	}
}

export const saveJson = (key: string, value: unknown) => save(key, JSON.stringify(value));

/**
 * Calls `handler` with the new value whenever another tab of the same site changes `key` (the
 * browser's `storage` event never fires in the tab that wrote). Without localStorage there are no
 * other tabs to hear from.
 */
export function onOtherTab(key: string, handler: (value: string | null) => void): void {
	window.addEventListener("storage", (event) => {
		if (allowed && event.key === PREFIX + key) handler(event.newValue);
	});
}
