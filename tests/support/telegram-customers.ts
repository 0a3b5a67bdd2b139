/**
 * Customers in a Telegram flow: making one on either channel, reading their rows, and recognising
 * what the bot sent them. Bound to a flow getter, since the flow starts in a `beforeAll`.
 */
import { expect } from "bun:test";
import { sql } from "drizzle-orm";
import type { ApiCall } from "./telegram-double.ts";
import {
	eventually,
	type newUser,
	nextCall,
	showsText,
	type TelegramFlow,
	topicIdOf,
} from "./telegram-flow.ts";
import {
	api,
	connectSocket,
	type Envelope,
	type Frame,
	initSession,
	type SocketClient,
} from "./web-client.ts";

/** The callback data of a "Link" confirmation button in a message to the user, if any. */
export function linkButton(call: ApiCall, userId: number): string | undefined {
	if (call.method !== "sendMessage" || Number(call.params.chat_id) !== userId) return undefined;
	const markup = call.params.reply_markup as
		| { inline_keyboard?: { text: string; callback_data?: string }[][] }
		| undefined;
	return markup?.inline_keyboard
		?.flat()
		.find((b) => /link/i.test(b.text) && !/cancel/i.test(b.text))?.callback_data;
}

export function telegramCustomers(flow: () => TelegramFlow) {
	/**
	 * A sendMessage the bot made into one topic of the support group (optionally showing this
	 * text, alone or under the card).
	 */
	function inTopic(call: ApiCall, topicId: number, text?: string) {
		return (
			call.method === "sendMessage" &&
			call.ok &&
			Number(call.params.chat_id) === flow().tg.groupId &&
			Number(call.params.message_thread_id) === topicId &&
			(text === undefined || showsText(call, text))
		);
	}

	/** A sendMessage the bot made into a customer's private chat (optionally with this text). */
	function inDm(call: ApiCall, userId: number, text?: string | ((text: string) => boolean)) {
		if (call.method !== "sendMessage" || !call.ok || Number(call.params.chat_id) !== userId)
			return false;
		const sent = String(call.params.text);
		return text === undefined || (typeof text === "string" ? sent === text : text(sent));
	}

	async function customerOfSession(sessionId: string): Promise<string> {
		const [row] = await flow().service.database.query<{ customer_id: string }>(
			sql`select customer_id from web_sessions where id = ${sessionId}`,
		);
		if (!row) throw new Error(`no session ${sessionId}`);
		return row.customer_id;
	}

	async function customerOfTelegram(userId: number): Promise<string> {
		const [row] = await flow().service.database.query<{ id: string }>(
			sql`select id from customers where telegram_user_id = ${userId}`,
		);
		if (!row) throw new Error(`no customer for Telegram user ${userId}`);
		return row.id;
	}

	/**
	 * The message id of the customer's card, once recorded (the record follows the card's send by
	 * a moment).
	 */
	async function cardOf(customerId: string): Promise<number> {
		return eventually(async () => {
			const [row] = await flow().service.database.query<{ card_message_id: number | null }>(
				sql`select card_message_id from customers where id = ${customerId}`,
			);
			return row?.card_message_id != null && Number(row.card_message_id);
		});
	}

	/** The customer's ticket events, oldest first. */
	async function eventRows(customerId: string) {
		return flow().service.database.query<{
			kind: string;
			from_status: string | null;
			to_status: string | null;
			actor: string;
			details: Record<string, unknown> | null;
			created_at: Date | string;
		}>(
			sql`select kind, from_status, to_status, actor, details, created_at from ticket_events
				where customer_id = ${customerId} order by id`,
		);
	}

	/** A widget customer with an open socket who asked a question; their topic and card exist. */
	async function webCustomer(question: string) {
		const { tg, service } = flow();
		const since = tg.calls.length;
		const { sessionId } = await initSession(service.url);
		const socket = connectSocket(service.url, `?session=${sessionId}`);
		await socket.next("connected");
		socket.send({ type: "message", text: question });
		await socket.next((f) => f.type === "message" && f.data.text === question);
		const copy = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "sendMessage" &&
				c.ok &&
				Number(c.params.chat_id) === tg.groupId &&
				showsText(c, `[WEB] ${question}`),
		);
		const topicId = Number(copy.params.message_thread_id);
		const customerId = await customerOfSession(sessionId);
		return { sessionId, socket, topicId, customerId, cardId: await cardOf(customerId) };
	}

	/**
	 * A Telegram customer who wrote to the bot first; their topic and card exist, and the bot's
	 * answers to a first message (confirmation, phone offer) are done.
	 */
	async function telegramCustomer(user: ReturnType<typeof newUser>, question: string) {
		const { tg, service } = flow();
		const since = tg.calls.length;
		tg.customerSends(user, question);
		const topicId = await topicIdOf(service, user.id);
		// The question in the topic: copied, or (a text) under the card.
		await nextCall(
			tg,
			since,
			(c) =>
				c.ok &&
				Number(c.params.chat_id) === tg.groupId &&
				((c.method === "copyMessage" && Number(c.params.from_chat_id) === user.id) ||
					(c.method === "sendMessage" && showsText(c, question))),
		);
		await nextCall(tg, since, (c) => inDm(c, user.id, (t) => t.includes("phone number")));
		const customerId = await customerOfTelegram(user.id);
		return { user, topicId, customerId, cardId: await cardOf(customerId) };
	}

	/** A one-time link of a web session to Telegram. */
	async function linkToken(sessionId: string) {
		const response = await api<Envelope<{ token: string; telegramUrl: string; expiresAt: string }>>(
			flow().service.url,
			"POST",
			"/api/chat/link-telegram",
			{ session: sessionId },
		);
		expect(response.status).toBe(200);
		return response.body.data;
	}

	/**
	 * The user opens a new link of the web customer in Telegram and presses "Link" when the bot
	 * asks; resolves with the `channel_linked` frame the widget's socket receives.
	 */
	async function linkConfirmed(
		web: { sessionId: string; socket: SocketClient },
		user: ReturnType<typeof newUser>,
	): Promise<Frame> {
		const { tg } = flow();
		const since = tg.calls.length;
		tg.customerSends(user, `/start ${(await linkToken(web.sessionId)).token}`);
		const pressed = new Set<number>();
		return eventually(() => {
			const frame = web.socket.frames.find((f) => f.type === "channel_linked");
			if (frame) return frame;
			for (const call of tg.calls.slice(since)) {
				const data = linkButton(call, user.id);
				const message = (call.result as { message_id?: number } | undefined)?.message_id;
				if (data && message !== undefined && !pressed.has(message)) {
					pressed.add(message);
					tg.pressButton(user.id, message, data);
				}
			}
			return undefined;
		});
	}

	return {
		linkConfirmed,
		inTopic,
		inDm,
		customerOfSession,
		customerOfTelegram,
		eventRows,
		webCustomer,
		telegramCustomer,
		linkToken,
	};
}
