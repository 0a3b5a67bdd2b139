/**
 * The setup page's group list: a basic group the bot was added to and
 * that Telegram then upgrades to a supergroup has a new id, and the bot hears of no "left" for
 * the old one. The list shows one group, under the new id, whichever of the two service messages
 * (`migrate_to_chat_id` in the old chat, `migrate_from_chat_id` in the new one) comes first.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { silentLogger } from "../../src/observability/logger.ts";
import { type GroupFinder, startGroupFinder } from "../../src/setup/group-finder.ts";
import { startTelegramDouble, type TelegramDouble } from "../support/telegram-double.ts";

const BASIC = { id: -4_012_345, type: "group", title: "Acme Support" };
const SUPER = { id: -1_009_876_543_210, type: "supergroup", title: "Acme Support", is_forum: true };

let tg: TelegramDouble;
let finder: GroupFinder | undefined;
beforeAll(() => {
	tg = startTelegramDouble();
});
afterEach(async () => {
	await finder?.stop();
	finder = undefined;
	tg.reset();
});
afterAll(() => tg.close());

const date = () => Math.floor(Date.now() / 1000);
const joined = (chat: object) => tg.botAdded("administrator", chat);
const migratedTo = () =>
	tg.pushUpdate({
		message: { message_id: 7, date: date(), chat: BASIC, migrate_to_chat_id: SUPER.id },
	} as never);
const migratedFrom = () =>
	tg.pushUpdate({
		message: { message_id: 1, date: date(), chat: SUPER, migrate_from_chat_id: BASIC.id },
	} as never);

function find() {
	finder = startGroupFinder({ apiRoot: tg.url, token: tg.token, log: silentLogger });
	return finder;
}

test.each([
	["the old chat's migrate_to_chat_id first", [migratedTo, migratedFrom]],
	["the new chat's migrate_from_chat_id first", [migratedFrom, migratedTo]],
])("an upgraded basic group is listed once, as the supergroup (%s)", async (_, order) => {
	const groups = find();
	joined(BASIC);
	await tg.waitForUpdateConfirmed();
	expect(groups.groups().map((g) => [g.id, g.type])).toEqual([[BASIC.id, "group"]]);

	for (const push of order) push();
	await tg.waitForUpdateConfirmed();
	expect(groups.groups()).toEqual([
		{ id: SUPER.id, title: "Acme Support", type: "supergroup", status: "administrator" },
	]);

	// The supergroup's own join event, when Telegram sends one, changes nothing but the status.
	joined(SUPER);
	await tg.waitForUpdateConfirmed();
	expect(groups.groups().map((g) => [g.id, g.type])).toEqual([[SUPER.id, "supergroup"]]);
});

test("a group the bot was never seen in stays unknown when it is upgraded", async () => {
	const groups = find();
	migratedTo();
	joined({ id: -1_001_111, type: "supergroup", title: "Other" });
	await tg.waitForUpdateConfirmed();
	expect(groups.groups().map((g) => g.id)).toEqual([-1_001_111]);
});
