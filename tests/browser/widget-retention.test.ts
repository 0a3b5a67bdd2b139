/**
 * A file whose bytes the service's retention deleted (`retention.media`): after a reload the
 * visitor sees that it is no longer available, by name, instead of a broken link.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { useBrowser } from "./support/browser.ts";
import { pdf } from "./support/files.ts";
import { useStack } from "./support/stack.ts";
import { topicFileCalls, waitForWebCopy } from "./support/topic.ts";
import { until, widgetOn } from "./support/widget.ts";

const stack = useStack({ configFile: { retention: { media: "2s", interval: "1s" } } });
const { visitor } = useBrowser();

describe("retention", () => {
	test("an expired file shows as no longer available, by its name", async () => {
		const { page } = await visitor();
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("My contract follows");
		const topicId = await waitForWebCopy(stack().tg, "My contract follows");
		const chooser = page.waitForEvent("filechooser", { timeout: 5000 });
		await w.attachButton.click();
		await (await chooser).setFiles({
			name: "contract-2025.pdf",
			mimeType: "application/pdf",
			buffer: pdf(),
		});
		await w.log.getByRole("link", { name: "contract-2025.pdf" }).waitFor({ timeout: 10_000 });
		await until(async () => expect(topicFileCalls(stack().tg, topicId)).toHaveLength(1), 10_000);

		// The observable end of the retention pass: the file's row marked expired.
		await until(async () => {
			const [row] = await stack().service.database.query<{ n: string }>(
				sql`select count(*) as n from media m join customers c on c.id = m.customer_id
					where c.topic_id = ${topicId} and m.expired_at is not null`,
			);
			expect(Number(row?.n)).toBe(1);
		}, 20_000);

		await page.reload();
		await widgetOn(page).open();
		await w.log
			.getByText("File no longer available contract-2025.pdf")
			.waitFor({ timeout: 10_000 });
		expect(await w.log.getByRole("link", { name: "contract-2025.pdf" }).count()).toBe(0);
	}, 60_000);
});
