/**
 * Never losing a message: the network cut while the visitor types (open sockets really closed,
 * requests really failing — Playwright's setOffline alone leaves sockets open), a reload while
 * still cut off, and a restart of the service on the same port and database. Each time: what was
 * typed is delivered exactly once, replies posted meanwhile appear once, and the banner clears.
 */
import { describe, expect, test } from "bun:test";
import type { BrowserContext, WebSocketRoute } from "playwright-core";
import { NETWORK_FAILURE_LINES, useBrowser } from "./support/browser.ts";
import { storedCount, useStack } from "./support/stack.ts";
import { waitForWebCopy, webCopies } from "./support/topic.ts";
import { until, type Widget, widgetOn } from "./support/widget.ts";

const stack = useStack();
const { visitor } = useBrowser();

/**
 * The service as reachable or not from this browser: while cut, API requests fail as on a dead
 * network and sockets are closed (open ones at once, new ones as soon as they try).
 */
async function cuttableNetwork(context: BrowserContext, base: string) {
	let cut = false;
	let open: WebSocketRoute[] = [];
	await context.routeWebSocket(/\/ws\/chat/, (ws) => {
		if (cut) {
			void ws.close({ code: 1006, reason: "network down" }).catch(() => ws.close());
			return;
		}
		ws.connectToServer();
		open.push(ws);
	});
	await context.route(`${base}/api/**`, (route) =>
		cut ? route.abort("internetdisconnected") : route.continue(),
	);
	return {
		async cut(options: { offline: boolean }) {
			cut = true;
			if (options.offline) await context.setOffline(true);
			const closing = open;
			open = [];
			await Promise.all(closing.map((ws) => ws.close({ code: 1001, reason: "network down" })));
		},
		/** The browser says it is online again, the service still unreachable. */
		async onlineButUnreachable() {
			await context.setOffline(false);
		},
		async restore() {
			cut = false;
			await context.setOffline(false);
		},
	};
}

/** Opens the panel if a reload left it closed. */
async function ensureOpen(w: Widget) {
	await w.launcherShown();
	if ((await w.launcher.getAttribute("aria-expanded")) !== "true") await w.launcher.click();
	await w.messageBox.waitFor({ state: "visible" });
}

/**
 * Proves the customer's queue moved past everything before it: a later message reaches the
 * topic (the outbox delivers one customer's items in order).
 */
async function settle(w: Widget, marker: string) {
	await w.send(marker, 20_000);
	await waitForWebCopy(stack().tg, marker, 15_000);
}

describe("offline and reconnect", () => {
	test("typed while offline: Sending…, kept across a reload, delivered once when back; a reply sent meanwhile shows once and the banner clears", async () => {
		const { tg } = stack();
		const v = await visitor();
		for (const line of NETWORK_FAILURE_LINES) v.expectConsole(line);
		const net = await cuttableNetwork(v.context, stack().base);
		const { page } = v;
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("Online at first");
		const topicId = await waitForWebCopy(tg, "Online at first");

		await net.cut({ offline: true });
		await page
			.getByText(w.t.offline, { exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });
		tg.operatorPosts(topicId, "Reply while you were offline");

		await w.messageBox.fill("Typed while offline");
		await w.messageBox.press("Enter");
		await w.expectState("Typed while offline", "sending");
		expect(await w.messageBox.inputValue()).toBe("");

		// Still no service, but the page itself loads again: the typed message is still there.
		await net.onlineButUnreachable();
		await page.reload();
		await ensureOpen(w);
		await w.expectOnce("Typed while offline");
		expect(await w.stateOf("Typed while offline")).not.toBe("sent");
		expect(webCopies(tg, "Typed while offline")).toHaveLength(0);
		await page
			.getByText(w.t.reconnecting, { exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });

		await net.restore();
		await w.expectState("Typed while offline", "sent", 30_000);
		await w.expectOnce("Reply while you were offline", 15_000);
		await until(
			async () => {
				expect(await page.getByText(w.t.reconnecting, { exact: true }).count()).toBe(0);
				expect(await page.getByText(w.t.offline, { exact: true }).count()).toBe(0);
			},
			10_000,
			"banner cleared",
		);
		await settle(w, "Back online marker");
		expect(webCopies(tg, "Typed while offline")).toHaveLength(1);
		expect(await storedCount(stack().service, topicId, "Typed while offline")).toBe(1);
		expect(await w.message("Typed while offline").count()).toBe(1);
		expect(await w.message("Reply while you were offline").count()).toBe(1);
		// A later reload shows each message once: the pending copy became the stored one.
		await page.reload();
		await ensureOpen(w);
		await w.expectOnce("Back online marker");
		expect(await w.message("Typed while offline").count()).toBe(1);
		expect(await w.message("Reply while you were offline").count()).toBe(1);
	}, 90_000);

	test("service restart on the same port and database: Reconnecting…, then the reply posted meanwhile shows once and the chat works", async () => {
		const { tg } = stack();
		const v = await visitor();
		for (const line of NETWORK_FAILURE_LINES) v.expectConsole(line);
		const { page } = v;
		await page.goto(stack().shopPage());
		const w = widgetOn(page);
		await w.open();
		await w.send("Before the restart");
		const topicId = await waitForWebCopy(tg, "Before the restart");

		await stack().stopService();
		await page
			.getByText(w.t.reconnecting, { exact: true })
			.waitFor({ state: "visible", timeout: 10_000 });
		tg.operatorPosts(topicId, "Answer posted during the restart");
		await stack().startService();

		await w.expectOnce("Answer posted during the restart", 30_000);
		await until(
			async () => expect(await page.getByText(w.t.reconnecting, { exact: true }).count()).toBe(0),
			10_000,
			"banner cleared",
		);
		await settle(w, "After the restart");
		expect(await w.message("Answer posted during the restart").count()).toBe(1);
		expect(await w.message("Before the restart").count()).toBe(1);
		expect(webCopies(tg, "Before the restart")).toHaveLength(1);
	}, 90_000);
});
