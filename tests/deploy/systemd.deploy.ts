/**
 * deploy/topicdesk.service as systemd reads it, without a running systemd: installed into a
 * throwaway root next to the system's own units, `systemd-analyze verify` accepts it without a
 * warning and `systemd-analyze security` rates its exposure 2.0 or lower ("OK" or better); the
 * secrets reach the service as credentials, named to it by their *_FILE variables.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/process.ts";

const UNIT = join(import.meta.dir, "..", "..", "deploy", "topicdesk.service");
let root: string;

beforeAll(() => {
	root = tempDir("td-systemd-root-");
	mkdirSync(join(root, "usr/local/bin"), { recursive: true });
	mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
	mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
	// verify checks that ExecStart is executable and that the targets the unit names exist.
	writeFileSync(join(root, "usr/local/bin/topicdesk"), "#!/bin/sh\n", { mode: 0o755 });
	cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
	cpSync(UNIT, join(root, "etc/systemd/system/topicdesk.service"));
});

async function analyze(...args: string[]) {
	const proc = Bun.spawn(["systemd-analyze", ...args, `--root=${root}`, "topicdesk.service"], {
		stdout: "pipe",
		stderr: "pipe",
	});
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { code, stdout, stderr };
}

describe("deploy/topicdesk.service", () => {
	test("systemd-analyze verify: accepted, not one warning", async () => {
		expect(await analyze("verify")).toEqual({ code: 0, stdout: "", stderr: "" });
	});

	test("systemd-analyze security: exposure 2.0 or lower, with the sandbox settings in force", async () => {
		const { code, stdout } = await analyze("security", "--offline=yes", "--no-pager");
		expect(code).toBe(0);
		const exposure = Number(
			/Overall exposure level for topicdesk\.service: ([\d.]+)/.exec(stdout)?.[1],
		);
		expect(exposure).toBeLessThanOrEqual(2.0);
		for (const setting of [
			"CapabilityBoundingSet=~CAP_SYS_ADMIN",
			"RestrictNamespaces=~user",
			"SystemCallFilter=~@privileged",
			"UMask=",
			"NoNewPrivileges=",
			"ProtectSystem=",
		])
			expect(stdout).toMatch(new RegExp(`✓ ${setting.replace(/[~|()*.]/g, "\\$&")}`));
	});

	test("each secret is a credential the service reads through its *_FILE variable", () => {
		const unit = readFileSync(UNIT, "utf8");
		for (const [name, variable] of [
			["bot_token", "BOT_TOKEN"],
			["app_secret", "APP_SECRET"],
		]) {
			expect(unit).toContain(`\nLoadCredential=${name}:/etc/topicdesk/${name}\n`);
			expect(unit).toContain(`\nEnvironment=${variable}_FILE=%d/${name}\n`);
			expect(unit).not.toMatch(new RegExp(`^Environment=${variable}=`, "m"));
		}
	});
});
