/**
 * Files the visitor sends, each uploaded with a progress bar. The first one carries what was typed
 * as its caption; if the service refuses the file, the caption goes back into the message box.
 */
import { type Alerts, gone } from "./alerts.ts";
import type { Chat } from "./chat.ts";
import type { Session } from "./session.ts";

export function createUploads(
	{ http, view, report }: Chat,
	alerts: Alerts,
	session: Pick<Session, "ensure" | "drop">,
) {
	async function upload(file: File, caption: string) {
		view.alert("");
		let bar: { set(share: number): void; done(): void } | undefined;
		try {
			await session.ensure();
			bar = view.progress(file.name);
			await http.upload(file, caption, bar.set);
		} catch (e) {
			if (gone(e)) session.drop();
			if (caption) view.restoreDraft(caption);
			alerts.show(e);
		} finally {
			bar?.done();
		}
	}

	return (files: File[], caption: string) => {
		files.forEach((file, i) => {
			upload(file, i === 0 ? caption : "").catch(report);
		});
	};
}
