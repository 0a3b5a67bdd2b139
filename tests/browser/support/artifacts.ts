/**
 * Screenshots of a failing browser test, kept for whoever reads the CI run: `test-artifacts/browser/`
 * at the repository's root (ignored by git), or `TEST_ARTIFACTS_DIR/browser/` when set, which CI
 * archives.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";

const DIR = join(
	process.env.TEST_ARTIFACTS_DIR ?? join(import.meta.dir, "..", "..", "..", "test-artifacts"),
	"browser",
);

/** Runs `body`; when it throws, a screenshot of `page` is saved as `<name>.png` first. */
export async function screenshotOnFailure(page: Page, name: string, body: () => Promise<void>) {
	try {
		await body();
	} catch (error) {
		mkdirSync(DIR, { recursive: true });
		const file = join(DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
		await page.screenshot({ path: file }).catch(() => undefined);
		throw error;
	}
}
