/**
 * The widget's only door to localStorage. Merely reading `window.localStorage` throws when the
 * visitor blocks cookies, and the storage belongs to the host site, so every key
 * is prefixed and every access guarded, with an in-memory copy as the fallback.
 */
const PREFIX = "topicdesk:";
const memory = new Map<string, string>();
let local: Storage | null | undefined;

function backing(): Storage | null {
	if (local === undefined) {
		try {
			local = window.localStorage;
			local.setItem(`${PREFIX}probe`, "1");
			local.removeItem(`${PREFIX}probe`);
		} catch {
			local = null;
		}
	}
	return local;
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
		if (event.key === PREFIX + key) handler(event.newValue);
	});
}
