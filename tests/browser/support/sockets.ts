/**
 * The widget's sockets as the page sees them: every WebSocket the page constructs is recorded
 * (an init script wraps the constructor before any page script runs), so a test can count how
 * many were made and how many are still open or connecting.
 */
import type { BrowserContext, Page } from "playwright-core";

export async function trackSockets(context: BrowserContext): Promise<void> {
	await context.addInitScript(() => {
		const g = globalThis as unknown as {
			WebSocket: new (url: string, protocols?: string | string[]) => object;
			__sockets: object[];
		};
		const Native = g.WebSocket;
		const made: object[] = [];
		g.__sockets = made;
		g.WebSocket = class extends Native {
			constructor(url: string, protocols?: string | string[]) {
				super(url, protocols);
				made.push(this);
			}
		};
	});
}

/** Sockets made so far, and those not closed or closing (CONNECTING or OPEN) right now. */
export function sockets(page: Page): Promise<{ made: number; live: number; open: number }> {
	return page.evaluate(() => {
		const all = (globalThis as unknown as { __sockets?: { readyState: number }[] }).__sockets ?? [];
		return {
			made: all.length,
			live: all.filter((s) => s.readyState <= 1).length,
			open: all.filter((s) => s.readyState === 1).length,
		};
	});
}
