/**
 * Files the visitor sends, each uploaded with a progress bar. The first one carries what was typed
 * as its caption; if the service refuses the file, the caption goes back into the message box.
 */
import type { Chat } from "./chat.ts";
import { gone, showError } from "./notices.ts";
import { dropSession, ensureSession } from "./session.ts";

async function upload(c: Chat, file: File, caption: string) {
	const { view } = c;
	view.alert("");
	let bar: { set(share: number): void; done(): void } | undefined;
	try {
		await ensureSession(c);
		bar = view.progress(file.name);
		await c.http.upload(file, caption, bar.set);
	} catch (e) {
		if (gone(e)) dropSession(c);
		if (caption) view.restoreDraft(caption);
		showError(c, e);
	} finally {
		bar?.done();
	}
}

export function uploadFiles(c: Chat, files: File[], caption: string) {
	files.forEach((file, i) => {
		upload(c, file, i === 0 ? caption : "").catch(c.config.report);
	});
}
