/**
 * The message list: one element per message (keyed by server id) or pending send (keyed by
 * `clientMessageId`), kept in `seq` order with pending sends last. Text goes in as text nodes only.
 */

import type { Message, Pending } from "../store.ts";
import type { WidgetTexts } from "../texts.ts";
import { splitLinks } from "../util.ts";
import { h } from "./dom.ts";

export interface ListActions {
	retry(cid: string): void;
	enlarge(src: string, from: HTMLElement): void;
	/** A loaded message by server id (for the quote of a reply). */
	original(id: string): Message | undefined;
}

/** The start of the replied-to message's text; nothing when it is not loaded or has no text. */
function quote(original: Message | undefined): HTMLElement | null {
	const text = original?.text.trim();
	if (!text) return null;
	return h("blockquote", { class: "quote" }, text.length > 120 ? `${text.slice(0, 119)}…` : text);
}

function textBlock(text: string): HTMLElement | null {
	if (!text) return null;
	const parts = splitLinks(text).map((part) =>
		part.href
			? h("a", { href: part.href, target: "_blank", rel: "noopener noreferrer" }, part.text)
			: part.text,
	);
	return h("div", { class: "text" }, ...parts);
}

/**
 * The text to show under a message's media: a file sent without a caption carries its own name
 * as its text (`📎 name`, for the older widget), which the file shown above already says.
 */
function caption(m: Message): string {
	const media = m.imageUrl || m.fileUrl || m.voiceUrl || m.fileExpired;
	const named = m.fileName ? m.text === `📎 ${m.fileName}` : /^📎 [^\n]+$/.test(m.text);
	return media && named ? "" : m.text;
}

export function createList(t: WidgetTexts, actions: ListActions) {
	const list = h("div", { class: "list" });
	const items = new Map<string, { el: HTMLElement; seq: number }>();
	const time = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
		hour: "2-digit",
		minute: "2-digit",
	});

	function place(key: string, el: HTMLElement, seq: number) {
		const old = items.get(key);
		items.set(key, { el, seq });
		el.dataset.seq = String(seq);
		if (old) return old.el.replaceWith(el);
		// Walk back from the end: new messages land last, so this is nearly always one step.
		let after = list.lastElementChild as HTMLElement | null;
		const seqOf = (node: Element) => Number((node as HTMLElement).dataset.seq);
		while (after && seqOf(after) > seq) after = after.previousElementSibling as HTMLElement | null;
		if (after) after.after(el);
		else list.prepend(el);
	}

	function message(m: Message) {
		const media: (HTMLElement | null)[] = [];
		if (m.imageUrl) {
			const src = m.imageUrl;
			const button: HTMLButtonElement = h(
				"button",
				{ class: "thumb", type: "button", onclick: () => actions.enlarge(src, button) },
				h("img", { src, alt: t.openImage, loading: "lazy" }),
			);
			media.push(button);
		}
		if (m.voiceUrl)
			media.push(
				h("audio", { controls: true, preload: "none", src: m.voiceUrl, "aria-label": t.voice }),
			);
		if (m.fileUrl)
			media.push(
				h(
					"a",
					{
						class: "file",
						href: m.fileUrl,
						target: "_blank",
						rel: "noopener noreferrer",
						download: m.fileName ?? "",
					},
					m.fileName || "file",
				),
			);
		if (m.fileExpired)
			media.push(h("span", { class: "file" }, t.fileExpired.replace("{name}", m.fileName || "")));
		const date = new Date(m.timestamp);
		const meta = h(
			"div",
			{ class: "meta" },
			Number.isNaN(date.getTime()) ? "" : time.format(date),
			m.editedAt ? ` ${t.edited}` : "",
			m.from === "user" ? ` · ${t.sent}` : "",
		);
		place(
			`m:${m.id}`,
			h(
				"div",
				{ class: `msg ${m.from}` },
				m.replyTo ? quote(actions.original(m.replyTo)) : null,
				...media,
				textBlock(caption(m)),
				m.from === "system" ? null : meta,
			),
			m.seq,
		);
	}

	function pending(p: Pending) {
		const state = p.error
			? h(
					"div",
					{ class: "meta failed" },
					`${t.failed}: ${p.error} `,
					h(
						"button",
						{ type: "button", class: "retry", onclick: () => actions.retry(p.cid) },
						t.retry,
					),
				)
			: h("div", { class: "meta" }, t.sending);
		place(
			`c:${p.cid}`,
			h("div", { class: "msg user pending" }, textBlock(p.text), state),
			Infinity,
		);
	}

	function drop(cid: string) {
		items.get(`c:${cid}`)?.el.remove();
		items.delete(`c:${cid}`);
	}

	function clear() {
		for (const [key, item] of items)
			if (key.startsWith("m:")) {
				item.el.remove();
				items.delete(key);
			}
	}

	return {
		list,
		message,
		pending,
		drop,
		clear,
		get size() {
			return items.size;
		},
	};
}
