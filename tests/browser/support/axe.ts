/**
 * axe-core inside the page, scoped to the widget: the source is injected with `page.evaluate`
 * (which a strict host CSP does not block, unlike a script tag) and run on the element that holds
 * the widget's open shadow root; axe walks into open shadow roots by itself.
 */
import axe from "axe-core";
import type { Page } from "playwright-core";

export interface AxeViolation {
	id: string;
	impact: string | null;
	help: string;
	nodes: { target: unknown; failureSummary?: string }[];
}

/** A CSS selector for the element hosting the widget's shadow root (the one holding the log). */
export async function widgetHostSelector(page: Page): Promise<string> {
	return page.evaluate(() => {
		type El = {
			tagName: string;
			id: string;
			shadowRoot: { querySelector(s: string): unknown } | null;
			setAttribute(n: string, v: string): void;
		};
		const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): El[] } })
			.document;
		const hosts = [...doc.querySelectorAll("*")].filter((el) => el.shadowRoot);
		const host = hosts.find((el) => el.shadowRoot?.querySelector('[role="log"]')) ?? hosts[0];
		if (!host)
			throw new Error("no element with an open shadow root: the widget is not on the page");
		if (host.id) return `#${host.id}`;
		return host.tagName.toLowerCase();
	});
}

/** Runs axe on the widget; returns the violations of impact serious or critical. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
	const host = await widgetHostSelector(page);
	const loaded = await page.evaluate(() => "axe" in globalThis);
	if (!loaded) await page.evaluate(axe.source);
	const violations = await page.evaluate(async (selector) => {
		type AxeRun = (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }>;
		const run = (globalThis as unknown as { axe: { run: AxeRun } }).axe.run;
		const result = await run({ include: [[selector]] }, { resultTypes: ["violations"] });
		return result.violations.map((v) => ({
			id: v.id,
			impact: v.impact,
			help: v.help,
			nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
		}));
	}, host);
	return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export function describeViolations(violations: AxeViolation[]): string {
	return violations
		.map(
			(v) =>
				`${v.impact} ${v.id}: ${v.help}\n${v.nodes
					.map(
						(n) =>
							`    ${JSON.stringify(n.target)} ${n.failureSummary?.replace(/\s+/g, " ") ?? ""}`,
					)
					.join("\n")}`,
		)
		.join("\n");
}
