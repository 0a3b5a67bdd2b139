/**
 * A customer in a private chat with the bot, end to end through the Bot API double.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { waitForOutboxIdle } from "../support/settle.ts";
import {
	dmTexts,
	eventsOf,
	eventually,
	newUser,
	nextCall,
	showsText,
	topicIdOf,
	useTelegramFlow,
} from "../support/telegram-flow.ts";

const flow = useTelegramFlow();

describe("the first message is the question", () => {
	test("/start greets; the first real message makes the ticket, topic, pinned card, copy, confirmation and phone offer", async () => {
		const { tg, service } = flow();
		const ann = newUser("Ann", { last_name: "Lee", username: "annlee" });
		const since = tg.calls.length;
		tg.customerSends(ann, "/start");
		await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && Number(c.params.chat_id) === ann.id,
		);
		expect(dmTexts(tg, ann.id)).toEqual([
			"Hello! Write your question here and our support team will answer in this chat.",
		]);
		const question = tg.customerSends(ann, "My parcel is late");
		const created = await nextCall(tg, since, (c) => c.method === "createForumTopic");
		expect(created.params.name).toBe("Ann Lee (@annlee)");
		const topicId = await topicIdOf(service, ann.id);
		// The question goes under the card: one message, recorded as the question's copy.
		const carded = await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && c.ok && showsText(c, "My parcel is late"),
		);
		expect(carded.params).toMatchObject({ chat_id: tg.groupId, message_thread_id: topicId });
		const [card, ...copied] = tg.topics.get(topicId)?.messages ?? [];
		expect(card?.text).toContain("Ann Lee (@annlee)");
		expect(card?.text).toContain("@annlee");
		expect(card?.text).toEndWith("\n\nMy parcel is late");
		expect(copied).toEqual([]);
		const [copy] = await service.database.query<{ telegram_message_id: number }>(
			sql`select c.telegram_message_id from message_copies c join messages m on m.id = c.message_id
				join customers u on u.id = m.customer_id
				where u.telegram_user_id = ${ann.id} and c.kind = 'dm'`,
		);
		expect(Number(copy?.telegram_message_id)).toBe(question.message_id);
		await nextCall(tg, since, (c) => c.method === "pinChatMessage" && c.ok);
		expect(tg.pinned(tg.groupId)).toContain(card?.message_id ?? -1);
		const askPhone = await nextCall(
			tg,
			since,
			(c) => c.method === "sendMessage" && String(c.params.text).includes("phone number"),
		);
		expect(JSON.stringify(askPhone.params.reply_markup)).toContain("request_contact");
		expect(dmTexts(tg, ann.id)).toContain(
			"Thank you! Your request is registered; an operator will answer here soon.",
		);
		expect(await eventsOf(service, ann.id)).toEqual(["OPENED"]);
	});

	test("sharing one's own contact stores the phone, logs it and updates the card; someone else's is refused", async () => {
		const { tg, service } = flow();
		const bob = newUser("Bob");
		tg.customerSends(bob, "hello");
		const topicId = await topicIdOf(service, bob.id);
		const since = tg.calls.length;
		tg.customerSends(bob, {
			contact: { phone_number: "+15550001", first_name: "Somebody", user_id: 42 },
		});
		await nextCall(tg, since, (c) => String(c.params.text ?? "").includes("own contact"));
		tg.customerSends(bob, {
			contact: { phone_number: "15550002", first_name: "Bob", user_id: bob.id },
		});
		const cardEdit = await nextCall(
			tg,
			since,
			(c) => c.method === "editMessageText" && String(c.params.text).includes("+15550002"),
		);
		expect(Number(cardEdit.params.chat_id)).toBe(tg.groupId);
		await nextCall(tg, since, (c) => c.params.text === "Thank you, we saved your number.");
		const [row] = await service.database.query<{ phone: string }>(
			sql`select phone from customers where telegram_user_id = ${bob.id}`,
		);
		expect(row?.phone).toBe("+15550002");
		expect(await eventsOf(service, bob.id)).toContain("PHONE_UPDATED");
		expect(tg.topics.get(topicId)?.messages.some((m) => m.text?.includes("Somebody"))).toBe(false);
	});

	test("media of every kind is copied; what cannot be copied gets a polite reply", async () => {
		const { tg, service } = flow();
		const cara = newUser("Cara");
		tg.customerSends(cara, "first");
		const topicId = await topicIdOf(service, cara.id);
		const since = tg.calls.length;
		const photo = tg.registerFile("photo", { bytes: new Uint8Array([0xff, 0xd8, 0xff, 9, 9, 9]) });
		const sent = [
			tg.customerSends(cara, { photo, caption: "see" }),
			tg.customerSends(cara, { location: { latitude: 52.5, longitude: 13.4 } }),
			tg.customerSends(cara, { dice: { emoji: "🎲", value: 4 } }),
		].map((m) => m.message_id);
		// These three's copies (the first message's copy may still be on its way).
		await eventually(
			() =>
				tg.calls
					.slice(since)
					.filter(
						(c) => c.method === "copyMessage" && c.ok && sent.includes(Number(c.params.message_id)),
					).length === 3,
		);
		const inTopic = tg.topics.get(topicId)?.messages ?? [];
		expect(inTopic.some((m) => m.photo && m.caption === "see")).toBe(true);
		expect(inTopic.some((m) => m.location)).toBe(true);
		tg.pushUpdate({
			message: {
				message_id: 999_001,
				date: Math.floor(Date.now() / 1000),
				chat: { id: cara.id, type: "private", first_name: "Cara" },
				from: { ...cara, is_bot: false },
				story: { chat: { id: cara.id, type: "private" }, id: 1 },
			},
		} as never);
		await nextCall(tg, since, (c) =>
			String(c.params.text ?? "").startsWith("Sorry, this kind of message"),
		);
	});

	test("edits follow the copy; replies are threaded; more than 20 a minute gets one slow-down", async () => {
		const { tg, service } = flow();
		const dan = newUser("Dan");
		const first = tg.customerSends(dan, "helo");
		const topicId = await topicIdOf(service, dan.id);
		// The ticket's first message stands under the card: that message is its copy.
		const copy = await nextCall(
			tg,
			0,
			(c) =>
				c.method === "sendMessage" &&
				Number(c.params.message_thread_id) === topicId &&
				showsText(c, "helo") &&
				c.ok,
		);
		const copyId = (copy.result as { message_id: number }).message_id;
		const since = tg.calls.length;
		tg.customerEdits(dan, first.message_id, "hello");
		const edit = await nextCall(
			tg,
			since,
			(c) => c.method === "editMessageText" && c.params.message_id === copyId,
		);
		expect(String(edit.params.text)).toStartWith("📋");
		expect(String(edit.params.text)).toEndWith("\n\nhello");
		tg.customerSends(dan, "about my first message", { replyToMessageId: first.message_id });
		const threaded = await nextCall(
			tg,
			since,
			(c) =>
				c.method === "copyMessage" &&
				c.ok &&
				(c.params.reply_parameters as { message_id?: number } | undefined)?.message_id === copyId,
		);
		expect(threaded.params.message_thread_id).toBe(topicId);
		const burst = tg.calls.length;
		for (let i = 0; i < 24; i++) tg.customerSends(dan, `spam ${i}`);
		await nextCall(tg, burst, (c) =>
			String(c.params.text ?? "").startsWith("You are sending messages very fast"),
		);
		// The whole burst applied, and everything it caused sent.
		await tg.waitForUpdateConfirmed();
		await waitForOutboxIdle(service);
		const slowDowns = dmTexts(tg, dan.id).filter((t) => t.startsWith("You are sending"));
		expect(slowDowns).toHaveLength(1);
		const copied = tg.calls.slice(burst).filter((c) => c.method === "copyMessage" && c.ok).length;
		// 2 of the minute's 20 went to the first messages above.
		expect(copied).toBe(18);
	}, 20_000);

	test("an album is copied item by item, each with its own caption, in order", async () => {
		const { tg, service } = flow();
		const ula = newUser("Ula");
		tg.customerSends(ula, "photos coming");
		const topicId = await topicIdOf(service, ula.id);
		const since = tg.calls.length;
		const first = tg.registerFile("photo", { bytes: new Uint8Array([0xff, 0xd8, 0xff, 1]) });
		const second = tg.registerFile("photo", { bytes: new Uint8Array([0xff, 0xd8, 0xff, 2]) });
		const a = tg.customerSends(ula, { photo: first, caption: "front", media_group_id: "album-1" });
		const b = tg.customerSends(ula, { photo: second, caption: "back", media_group_id: "album-1" });
		// The album's copies only: the first message's copy may still be on its way.
		const albumCopies = () =>
			tg.calls
				.slice(since)
				.filter(
					(c) =>
						c.method === "copyMessage" &&
						c.ok &&
						c.params.from_chat_id === ula.id &&
						[a.message_id, b.message_id].includes(Number(c.params.message_id)),
				);
		await eventually(() => albumCopies().length === 2);
		const copies = albumCopies();
		expect(copies.map((c) => c.params.message_id)).toEqual([a.message_id, b.message_id]);
		expect(copies.every((c) => c.params.message_thread_id === topicId)).toBe(true);
		const inTopic = (tg.topics.get(topicId)?.messages ?? []).filter((m) => m.photo);
		expect(inTopic.map((m) => m.caption)).toEqual(["front", "back"]);
	});
});
