/**
 * The widget and the site's signed visitor: a page rendered with `data-user-*` (its server signed
 * the id) makes every browser of that user one conversation, live on both; `topicdesk.reset()`
 * (the site's logout) starts this browser afresh. And while the desk is outside its business
 * hours, the header says so, and when it is back, before the visitor writes.
 */
import { describe, expect, test } from "bun:test";
import { identityHash } from "../../src/core/identity.ts";
import { useBrowser } from "./support/browser.ts";
import { useStack } from "./support/stack.ts";
import { until, widgetOn } from "./support/widget.ts";

const SECRET = "shop-signing-secret-0123456789abcdef";
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const today = new Date().getUTCDay();
/** Closed all of today (UTC), open every other day: the desk is away now. */
const closedToday = Object.fromEntries(
	DAYS.filter((_, i) => i !== today).map((day) => [day, ["00:00", "23:59"]]),
);

describe("a signed-in visitor on two devices", () => {
	const stack = useStack({
		env: { IDENTITY_SECRET: SECRET },
		configFile: { businessHours: { timeZone: "UTC", week: closedToday } },
	});
	const { visitor } = useBrowser();

	const signedPage = (userId: string) =>
		stack().shopPage({
			data: {
				"user-id": userId,
				"user-hash": identityHash(SECRET, userId),
				"user-name": "Alice Example",
			},
		});

	test("a message from the laptop appears live on the phone; the header says the desk is away", async () => {
		const laptop = await visitor();
		const phone = await visitor({ viewport: { width: 390, height: 844 }, hasTouch: true });
		await laptop.page.goto(signedPage("shop-user-42"));
		await phone.page.goto(signedPage("shop-user-42"));
		const onLaptop = widgetOn(laptop.page);
		const onPhone = widgetOn(phone.page);
		await onLaptop.open();
		await onPhone.open();
		await until(async () =>
			expect(await laptop.page.getByText(/^We're away — back at /).count()).toBe(1),
		);

		await onLaptop.send("Sent from the laptop");
		await until(async () => expect(await onPhone.message("Sent from the laptop").count()).toBe(1));
		await onPhone.send("Answered on the phone");
		await until(async () =>
			expect(await onLaptop.message("Answered on the phone").count()).toBe(1),
		);
	}, 60_000);

	test("topicdesk.reset() (the site's logout) starts this browser afresh", async () => {
		const { page } = await visitor();
		await page.goto(signedPage("shop-user-77"));
		const w = widgetOn(page);
		await w.open();
		await w.send("Before logging out");
		await page.evaluate(() => {
			(globalThis as unknown as { topicdesk: { reset(): void } }).topicdesk.reset();
		});
		await until(async () => expect(await w.message("Before logging out").count()).toBe(0));
		// A page without the user's identity now: an anonymous conversation, not the user's.
		await page.goto(stack().shopPage());
		await w.open();
		await w.send("Anonymous now");
		await until(async () => expect(await w.message("Anonymous now").count()).toBe(1));
		expect(await w.message("Before logging out").count()).toBe(0);
	}, 60_000);
});
