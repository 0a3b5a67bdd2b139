/**
 * What the visitor's conversation holds: messages by server id (so the same message arriving by
 * POST answer, WS echo and catch-up is kept once), pending sends by `clientMessageId` (persisted,
 * so a reload keeps what was typed offline), and the unread count.
 */
import { KEYS, load, loadJson, onOtherTab, save, saveJson } from "./storage.ts";

export interface Message {
	id: string;
	seq: number;
	text: string;
	from: "user" | "support" | "system";
	channel?: string;
	timestamp: string;
	replyTo?: string;
	clientMessageId?: string;
	editedAt?: string;
	imageUrl?: string;
	voiceUrl?: string;
	voiceDuration?: number;
	fileUrl?: string;
	fileName?: string;
	/** The file's bytes were deleted by the service's retention: only its name is left. */
	fileExpired?: boolean;
}

export interface Pending {
	cid: string;
	text: string;
	/** Set when the server refused it for good: shown as failed with Retry. */
	error?: string;
}

const PENDING_KEY = KEYS.pending;
const READ_KEY = KEYS.read;
/** A visitor with a mark of the desk-wide numbering had seen what they were shown: the first page shown counts as read (`loaded`). */
const LEGACY_READ_KEY = KEYS.legacyRead;

export function createStore() {
	const messages = new Map<string, Message>();
	let pending: Pending[] = loadJson<Pending[]>(PENDING_KEY, []).filter(
		(p) => p && typeof p.cid === "string" && typeof p.text === "string",
	);
	let readSeq = Number(loadJson<number>(READ_KEY, 0)) || 0;
	let legacyRead = load(READ_KEY) === null && load(LEGACY_READ_KEY) !== null;
	if (legacyRead) save(LEGACY_READ_KEY, null);
	let newest: Message | undefined;
	let oldest: Message | undefined;

	const persist = () => saveJson(PENDING_KEY, pending);

	return {
		messages,
		get pending(): readonly Pending[] {
			return pending;
		},
		/** The last server id seen: the catch-up cursor. */
		get newestId() {
			return newest?.id;
		},
		/** The oldest server id seen: the paging cursor (never a client id). */
		get oldestId() {
			return oldest?.id;
		},
		/** Adds a message; false when it was already there (a duplicate). */
		add(message: Message): boolean {
			if (!message || typeof message.id !== "string" || messages.has(message.id)) return false;
			messages.set(message.id, message);
			if (!newest || message.seq > newest.seq) newest = message;
			if (!oldest || message.seq < oldest.seq) oldest = message;
			return true;
		},
		edit(id: string, text: string, editedAt: string): Message | undefined {
			const message = messages.get(id);
			if (message) Object.assign(message, { text, editedAt });
			return message;
		},
		/** Forgets the messages (not what was read): the conversation is loaded again. */
		forget() {
			messages.clear();
			newest = oldest = undefined;
		},
		/** Messages are cleared when the session changes (a new conversation). */
		reset() {
			this.forget();
			readSeq = 0;
			save(READ_KEY, null);
			save(KEYS.unread, null);
		},
		queue(text: string, cid: string): Pending {
			const item = { cid, text };
			pending = [...pending, item];
			persist();
			return item;
		},
		/** The send was acknowledged (or echoed): forget it. True when it was pending here. */
		settle(cid: string | undefined): boolean {
			const before = pending.length;
			pending = pending.filter((p) => p.cid !== cid);
			if (pending.length === before) return false;
			persist();
			return true;
		},
		fail(cid: string, error: string | undefined) {
			for (const p of pending) if (p.cid === cid) p.error = error;
			persist();
		},
		/** Support and system messages newer than the last one the visitor saw. */
		get unread(): number {
			let count = 0;
			for (const m of messages.values()) if (m.from !== "user" && m.seq > readSeq) count++;
			return count;
		},
		/** The newest page is shown: with a legacy read mark, what it shows counts as read. */
		loaded() {
			if (!legacyRead) return;
			legacyRead = false;
			this.markRead();
		},
		markRead() {
			if (newest && newest.seq > readSeq) {
				readSeq = newest.seq;
				save(READ_KEY, String(readSeq));
			}
		},
		/**
		 * `changed` runs when the visitor read further in another tab of the site: the badge here
		 * follows at once instead of at the next reload. A reset there (a new conversation) is
		 * left to this tab's own session check.
		 */
		followOtherTabs(changed: () => void) {
			onOtherTab(READ_KEY, (value) => {
				const seq = Number(value) || 0;
				if (seq <= readSeq) return;
				readSeq = seq;
				changed();
			});
		},
	};
}

export type Store = ReturnType<typeof createStore>;
