/** One labelled progress bar per file on its way to the service, removed when it is done. */
import type { WidgetTexts } from "../texts.ts";
import { fill } from "../util.ts";
import { h } from "./dom.ts";

export function createUploads(t: WidgetTexts) {
	const el = h("div", { class: "uploads" });
	return {
		el,
		progress(name: string) {
			const label = fill(t.uploading, { name });
			const bar = h("progress", { max: 1, value: 0, "aria-label": label });
			const row = h("div", { class: "upload" }, h("span", null, label), bar);
			el.append(row);
			return {
				set: (share: number) => {
					bar.value = share;
				},
				done: () => row.remove(),
			};
		},
	};
}
