/**
 * Attachments as a visitor sends them: by the attach button (the file chooser), by dropping a
 * file on the panel and by pasting one; images inline and enlarged in a dialog, documents by
 * name; a file too large or of a refused type answered in words, with nothing stored or sent.
 */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { useBrowser } from "./support/browser.ts";
import { exe, pdf, png } from "./support/files.ts";
import { useStack } from "./support/stack.ts";
import { topicFileCalls, waitForWebCopy } from "./support/topic.ts";
import { startChatOnShop, until, type Widget } from "./support/widget.ts";

const IMAGE_MAX = 40_000;
const stack = useStack({
	configFile: { uploads: { imageMaxBytes: IMAGE_MAX, documentMaxBytes: 60_000 } },
});
const { visitor } = useBrowser();

interface FileSpec {
	name: string;
	mimeType: string;
	buffer: Buffer;
}

/** Attaches through the attach button and the file chooser it opens. */
async function attach(page: Page, w: Widget, file: FileSpec) {
	const chooser = page.waitForEvent("filechooser", { timeout: 5000 });
	await w.attachButton.click();
	await (await chooser).setFiles(file);
}

/** Media rows stored for the customer of a topic. */
async function mediaCount(topicId: number): Promise<number> {
	const [row] = await stack().service.database.query<{ n: string }>(
		sql`select count(*) as n from media m join customers c on c.id = m.customer_id
			where c.topic_id = ${topicId}`,
	);
	return Number(row?.n ?? 0);
}

/** A visitor with an open panel and a topic. */
async function startChat(first: string) {
	const v = await visitor();
	return startChatOnShop(v, stack(), first);
}

/** A `File` built in the page (for drop and paste), from base64. */
function fileInPage(page: Page, file: FileSpec) {
	return page.evaluateHandle(
		({ name, mimeType, base64 }) => {
			const g = globalThis as unknown as {
				atob(s: string): string;
				File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
				DataTransfer: new () => { items: { add(file: unknown): void } };
			};
			const binary = g.atob(base64);
			const bytes = new Uint8Array(binary.length);
			for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
			const transfer = new g.DataTransfer();
			transfer.items.add(new g.File([bytes], name, { type: mimeType }));
			return transfer;
		},
		{ name: file.name, mimeType: file.mimeType, base64: file.buffer.toString("base64") },
	);
}

describe("attachments", () => {
	test("an image by the attach button shows inline, reaches the topic, and enlarges in the 'Image' dialog", async () => {
		const { page, w, topicId } = await startChat("I will send a photo");
		await attach(page, w, { name: "kettle.png", mimeType: "image/png", buffer: png(64, 48) });
		const image = w.log.locator("img");
		await image.first().waitFor({ state: "visible", timeout: 10_000 });
		await until(async () => {
			const width = await image
				.first()
				.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
			expect(width).toBe(64);
		}, 10_000);
		await until(async () => expect(topicFileCalls(stack().tg, topicId)).toHaveLength(1), 10_000);
		expect(topicFileCalls(stack().tg, topicId)[0]?.method).toBe("sendPhoto");

		await image.first().click();
		await w.imageDialog.waitFor({ state: "visible", timeout: 5000 });
		expect(await w.imageDialog.locator("img").count()).toBeGreaterThan(0);
		await w.closeImage.click();
		await w.imageDialog.waitFor({ state: "hidden", timeout: 5000 });
		expect(await w.panel.isVisible()).toBe(true);
	}, 45_000);

	test("a document by the attach button shows by its file name; a dropped file and a pasted one are sent too", async () => {
		const { page, w, topicId } = await startChat("Here are my papers");
		await attach(page, w, { name: "invoice-77.pdf", mimeType: "application/pdf", buffer: pdf() });
		await w.log.getByText("invoice-77.pdf").first().waitFor({ state: "visible", timeout: 10_000 });
		await until(async () => expect(topicFileCalls(stack().tg, topicId)).toHaveLength(1), 10_000);
		expect(topicFileCalls(stack().tg, topicId)[0]?.method).toBe("sendDocument");

		const dropped = await fileInPage(page, {
			name: "dropped-receipt.pdf",
			mimeType: "application/pdf",
			buffer: pdf(),
		});
		for (const type of ["dragenter", "dragover", "drop"])
			await w.log.dispatchEvent(type, { dataTransfer: dropped });
		await w.log
			.getByText("dropped-receipt.pdf")
			.first()
			.waitFor({ state: "visible", timeout: 10_000 });

		const pasted = await fileInPage(page, {
			name: "pasted.png",
			mimeType: "image/png",
			buffer: png(20, 20),
		});
		await w.messageBox.focus();
		await w.messageBox.evaluate((box, clipboardData) => {
			const g = globalThis as unknown as {
				ClipboardEvent: new (type: string, init: Record<string, unknown>) => unknown;
			};
			(box as unknown as { dispatchEvent(e: unknown): boolean }).dispatchEvent(
				new g.ClipboardEvent("paste", {
					clipboardData,
					bubbles: true,
					cancelable: true,
					composed: true,
				}),
			);
		}, pasted);
		await until(async () => expect(topicFileCalls(stack().tg, topicId)).toHaveLength(3), 15_000);
		expect(await mediaCount(topicId)).toBe(3);

		// Sent without a caption, a file keeps its name as its text (for the older widget): after
		// a reload, from history, each is still shown once, by its file or its image.
		await page.reload();
		await w.open();
		await w.log.getByText("invoice-77.pdf").first().waitFor({ state: "visible", timeout: 10_000 });
		expect(await w.log.getByText("invoice-77.pdf").count()).toBe(1);
		expect(await w.log.getByText("dropped-receipt.pdf").count()).toBe(1);
		expect(await w.log.getByText("📎").count()).toBe(0);
	}, 45_000);

	test("text typed before attaching goes with the file as its caption; a refused file gives the text back", async () => {
		const v = await startChat("About my order");
		const { page, w, topicId } = v;
		v.expectConsole(/Failed to load resource: the server responded with a status of 415/);

		await w.messageBox.fill("The dent on the lid");
		await attach(page, w, { name: "lid.png", mimeType: "image/png", buffer: png(40, 30) });
		// One message in the widget: the image with its caption; the box is empty again.
		await w.message("The dent on the lid").waitFor({ state: "visible", timeout: 10_000 });
		expect(await w.messageBox.inputValue()).toBe("");
		await until(async () => expect(topicFileCalls(stack().tg, topicId)).toHaveLength(1), 10_000);
		const [photo] = topicFileCalls(stack().tg, topicId);
		expect(photo?.method).toBe("sendPhoto");
		expect(String(photo?.params.caption)).toContain("The dent on the lid");

		// A file the service refuses: the caption is back in the box, nothing was sent.
		await w.messageBox.fill("And the invoice");
		await attach(page, w, {
			name: "invoice.exe",
			mimeType: "application/octet-stream",
			buffer: exe(),
		});
		await until(
			async () => expect(await w.messageBox.inputValue()).toBe("And the invoice"),
			10_000,
		);
		await w.send("After the refused file");
		await waitForWebCopy(stack().tg, "After the refused file");
		expect(topicFileCalls(stack().tg, topicId)).toHaveLength(1);
		expect(await w.log.getByText("And the invoice").count()).toBe(0);
	}, 45_000);

	test("too large or of a refused type: the error in words, nothing stored, nothing sent to the topic", async () => {
		const v = await startChat("Trying some files");
		const { page, w, topicId } = v;
		// The browser prints a line for each refused upload (413, 415): that is the server answering.
		v.expectConsole(/Failed to load resource: the server responded with a status of 41[35]/);
		const alert = page.getByRole("alert").filter({ hasText: /\S/ });

		const big = png(160, 160, { noise: true });
		expect(big.byteLength).toBeGreaterThan(IMAGE_MAX);
		await attach(page, w, { name: "huge.png", mimeType: "image/png", buffer: big });
		await alert.first().waitFor({ state: "visible", timeout: 10_000 });
		const tooLarge = (await alert.first().textContent()) ?? "";
		expect(tooLarge).toMatch(/too large|larger than/i);
		expect(tooLarge).not.toContain("FILE_TOO_LARGE");

		await attach(page, w, {
			name: "setup.exe",
			mimeType: "application/octet-stream",
			buffer: exe(),
		});
		await until(async () => {
			const text = (await alert.first().textContent()) ?? "";
			expect(text).toMatch(/type of file|not accepted|cannot be sent|not allowed/i);
			expect(text).not.toContain("INVALID_FILE_TYPE");
		}, 10_000);

		// Neither file is shown as a message, and after a later message reached the topic,
		// still nothing of them was stored or sent.
		expect(await w.log.getByText("huge.png").count()).toBe(0);
		expect(await w.log.getByText("setup.exe").count()).toBe(0);
		await w.send("After the refused files");
		await waitForWebCopy(stack().tg, "After the refused files");
		expect(await mediaCount(topicId)).toBe(0);
		expect(topicFileCalls(stack().tg, topicId)).toEqual([]);
	}, 45_000);

	test("an operator's photo, document and voice from the topic: the image inline from the service, the document by name, the voice with a player", async () => {
		const { tg, base } = stack();
		const { w, topicId } = await startChat("Send me the manual please");
		tg.operatorPosts(topicId, { photo: { bytes: png(50, 30), width: 50, height: 30 } });
		tg.operatorPosts(topicId, {
			document: { bytes: pdf(), mimeType: "application/pdf", fileName: "kettle-manual.pdf" },
			caption: "The manual",
		});
		tg.operatorPosts(topicId, {
			voice: {
				bytes: new Uint8Array([0x4f, 0x67, 0x67, 0x53, 0, 2]),
				mimeType: "audio/ogg",
				duration: 3,
			},
		});
		const image = w.log.locator("img");
		await until(async () => {
			const loaded = await image.first().evaluate((img) => {
				const i = img as unknown as { naturalWidth: number; currentSrc: string };
				return { width: i.naturalWidth, src: i.currentSrc };
			});
			expect(loaded.width).toBe(50);
			expect(loaded.src.startsWith(`${base}/`)).toBe(true);
		}, 15_000);
		await w.log
			.getByText("kettle-manual.pdf")
			.first()
			.waitFor({ state: "visible", timeout: 10_000 });
		await w.log.getByText("The manual").first().waitFor({ state: "visible", timeout: 10_000 });
		await w.log.locator("audio").first().waitFor({ state: "attached", timeout: 10_000 });
		expect(await w.log.locator("audio").count()).toBe(1);
	}, 45_000);
});
