/**
 * The widget as a visitor sees it, selected only by the roles and accessible names of
 * docs/WIDGET.md (the contract) and the texts it promises. playwright-core has no auto-retrying
 * `expect`, so `until` retries an assertion block until it passes or time runs out.
 */
import { expect } from "bun:test";
import type { Locator, Page } from "playwright-core";
import type { Visitor } from "./browser.ts";
import type { Stack } from "./stack.ts";
import { waitForWebCopy } from "./topic.ts";

export const NAMES = {
	en: {
		launcher: "Chat with us",
		unread: (n: number) => `Chat with us, ${n} unread`,
		log: "Messages",
		messageBox: "Message",
		send: "Send",
		attach: "Attach a file",
		closeChat: "Close chat",
		loadEarlier: "Load earlier messages",
		continueTelegram: "Continue in Telegram",
		endConversation: "End conversation",
		star: (n: number) => `Rate ${n} out of 5`,
		feedback: "Feedback (optional)",
		sendRating: "Send rating",
		retry: "Retry",
		image: "Image",
		closeImage: "Close image",
		status: {
			open: "Open",
			inProgress: "In progress",
			waiting: "Waiting for your reply",
			closed: "Closed",
		},
		sending: "Sending…",
		sent: "Sent",
		failed: "Failed",
		reconnecting: "Reconnecting…",
		offline: "You are offline. Messages will be sent when you are back online.",
		linkedAs: (name: string) => `Linked to Telegram as ${name}`,
		thanks: "Thank you for your rating!",
	},
	ru: {
		launcher: "Написать нам",
		unread: (n: number) => `Написать нам, ${n} непрочитанных`,
		log: "Сообщения",
		messageBox: "Сообщение",
		send: "Отправить",
		attach: "Прикрепить файл",
		closeChat: "Закрыть чат",
		loadEarlier: "Загрузить предыдущие сообщения",
		continueTelegram: "Продолжить в Telegram",
		endConversation: "Завершить диалог",
		star: (n: number) => `Оценка ${n} из 5`,
		feedback: "Отзыв (необязательно)",
		sendRating: "Отправить оценку",
		retry: "Повторить",
		image: "Изображение",
		closeImage: "Закрыть изображение",
		status: {
			open: "Открыт",
			inProgress: "В работе",
			waiting: "Ждём вашего ответа",
			closed: "Закрыт",
		},
		sending: "Отправка…",
		sent: "Отправлено",
		failed: "Не отправлено",
		reconnecting: "Переподключение…",
		offline: "",
		linkedAs: (name: string) => `Linked to Telegram as ${name}`,
		thanks: "",
	},
} as const;

export type Locale = keyof typeof NAMES;

/** Retries `check` (an assertion block) until it passes; rethrows its last failure at the end. */
export async function until<T>(
	check: () => Promise<T> | T,
	timeoutMs = 10_000,
	what = "",
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			return await check();
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) {
			const message = last instanceof Error ? last.message : String(last);
			throw new Error(`${what ? `${what}: ` : ""}not true after ${timeoutMs} ms: ${message}`);
		}
		await Bun.sleep(50);
	}
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The widget on one page. */
export function widgetOn(page: Page, locale: Locale = "en") {
	const t = NAMES[locale];
	const button = (name: string | RegExp) =>
		page.getByRole("button", { name, exact: typeof name === "string" });
	const log = page.getByRole("log", { name: t.log, exact: true });
	const launcher = button(new RegExp(`^${escapeRegExp(t.launcher)}`));
	const panel = page.getByRole("dialog").filter({ has: log });
	const messageBox = page.getByRole("textbox", { name: t.messageBox, exact: true });

	const w = {
		t,
		page,
		launcher,
		panel,
		log,
		messageBox,
		sendButton: button(t.send),
		attachButton: button(t.attach),
		closeButton: button(t.closeChat),
		loadEarlier: button(t.loadEarlier),
		continueTelegram: button(t.continueTelegram),
		endConversation: button(t.endConversation),
		star: (n: number) => button(t.star(n)),
		feedback: page.getByRole("textbox", { name: t.feedback, exact: true }),
		sendRating: button(t.sendRating),
		retryButton: button(t.retry),
		imageDialog: page.getByRole("dialog", { name: t.image, exact: true }),
		closeImage: button(t.closeImage),

		/** A message text in the log (the element holding exactly this text). */
		message: (text: string) => log.getByText(text, { exact: true }),
		/** Text anywhere in the panel. */
		inPanel: (text: string) => panel.getByText(text, { exact: true }),

		/** The launcher is on the page. */
		async launcherShown(timeoutMs = 10_000) {
			await launcher.waitFor({ state: "visible", timeout: timeoutMs });
		},

		/** Clicks the launcher; the panel opens with the message box focused. */
		async open() {
			await w.launcherShown();
			await launcher.click();
			await w.messageBoxFocused();
		},

		async messageBoxFocused(timeoutMs = 10_000) {
			await until(
				async () => expect(await isFocused(messageBox)).toBe(true),
				timeoutMs,
				"message box focused",
			);
		},

		/** Types and presses Send. */
		async type(text: string) {
			await messageBox.fill(text);
			await w.sendButton.click();
		},

		/** Types, sends, and waits until the message shows as Sent. */
		async send(text: string, timeoutMs = 10_000) {
			await w.type(text);
			await w.expectState(text, "sent", timeoutMs);
		},

		/**
		 * The delivery state shown next to one of the visitor's own messages: the first state word
		 * met walking up from the message's text (so only meaningful for the visitor's messages).
		 */
		async stateOf(text: string): Promise<"sending" | "sent" | "failed" | "none" | "ambiguous"> {
			const words = { sending: t.sending, sent: t.sent, failed: t.failed };
			return w
				.message(text)
				.first()
				.evaluate(
					(element, { states, own }) => {
						type Node = { parentElement: Node | null; textContent: string | null };
						// The state words as they appear next to the message, its own text left out
						// (a message may well say "Sent"); "Sent" is no part of "Sending…".
						// Each occurrence counts: a level holding two states is past the message.
						const found = (content: string) =>
							(Object.entries(states) as [string, string][]).flatMap(([state, word]) =>
								content
									.replace(own, "")
									.split(word)
									.slice(1)
									.map(() => [state, word] as const),
							);
						let node: Node | null = element as unknown as Node;
						while (node) {
							const hits = found(node.textContent ?? "");
							if (hits.length === 1) return hits[0]?.[0] as string;
							if (hits.length > 1) return "ambiguous";
							const role = (
								node as unknown as { getAttribute?: (n: string) => string | null }
							).getAttribute?.("role");
							if (role === "log") return "none";
							node = node.parentElement;
						}
						return "none";
					},
					{ states: words, own: text },
				) as Promise<"sending" | "sent" | "failed" | "none" | "ambiguous">;
		},

		async expectState(text: string, state: "sending" | "sent" | "failed", timeoutMs = 10_000) {
			await until(
				async () => expect(await w.stateOf(text)).toBe(state),
				timeoutMs,
				`"${text}" shown as ${state}`,
			);
		},

		/** Waits until `text` is shown in the log exactly once. */
		async expectOnce(text: string, timeoutMs = 10_000) {
			await until(
				async () => expect(await w.message(text).count()).toBe(1),
				timeoutMs,
				`"${text}" shown once`,
			);
		},

		/** The texts of the log in document order (leaf text, whitespace collapsed). */
		async logText(): Promise<string> {
			return ((await log.textContent()) ?? "").replace(/\s+/g, " ");
		},

		/** The launcher's accessible name (e.g. "Chat with us, 1 unread"). */
		async launcherName(): Promise<string> {
			return accessibleName(launcher);
		},
	};
	return w;
}

export type Widget = ReturnType<typeof widgetOn>;

/** True when `locator`'s element has focus, looking through shadow roots. */
export async function isFocused(locator: Locator): Promise<boolean> {
	return locator.evaluate((element) => {
		type Focusable = { shadowRoot: { activeElement: Focusable | null } | null };
		const doc = (globalThis as unknown as { document: { activeElement: Focusable | null } })
			.document;
		let active = doc.activeElement;
		while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
		return active === (element as unknown as Focusable);
	});
}

/** A description of the element that has focus (through shadow roots), for failure messages. */
export async function focusedDescription(page: Page): Promise<string> {
	return page.evaluate(() => {
		type El = {
			shadowRoot: { activeElement: El | null } | null;
			tagName: string;
			getAttribute(name: string): string | null;
			textContent: string | null;
		};
		const doc = (globalThis as unknown as { document: { activeElement: El | null } }).document;
		let active = doc.activeElement;
		const path: string[] = [];
		while (active) {
			path.push(`${active.tagName.toLowerCase()}[aria-label=${active.getAttribute("aria-label")}]`);
			active = active.shadowRoot?.activeElement ?? null;
		}
		return path.join(" > ");
	});
}

/** True when the focused element (through shadow roots) is inside the widget's shadow root. */
export async function focusInsideWidget(page: Page): Promise<boolean> {
	return page.evaluate(() => {
		type El = { shadowRoot: { activeElement: El | null } | null };
		const doc = (globalThis as unknown as { document: { activeElement: El | null } }).document;
		const active = doc.activeElement;
		return Boolean(active?.shadowRoot?.activeElement);
	});
}

/** The accessible name as the browser computes it (through CDP's accessibility snapshot). */
export async function accessibleName(locator: Locator): Promise<string> {
	const label = await locator.getAttribute("aria-label");
	if (label) return label;
	return ((await locator.textContent()) ?? "").trim();
}

/**
 * The visitor opens the shop page, opens the widget and writes a first message; resolves once
 * its copy is in a topic. Tests start most conversations this way.
 */
export async function startChatOnShop<V extends Visitor>(v: V, stack: Stack, first: string) {
	await v.page.goto(stack.shopPage());
	const w = widgetOn(v.page);
	await w.open();
	await w.send(first);
	const topicId = await waitForWebCopy(stack.tg, first);
	return { ...v, w, topicId };
}
