import { describe, expect, test } from "bun:test";
import { isRetryable, retryingConflicts } from "../../src/db/errors.ts";

describe("a transaction chosen as a deadlock victim runs again", () => {
	test("deadlocks and serialization failures are retried, also when wrapped", async () => {
		let calls = 0;
		const result = await retryingConflicts(async () => {
			calls++;
			if (calls === 1) throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
			if (calls === 2) throw new Error("Failed query", { cause: { code: "40001" } });
			return "committed";
		});
		expect(result).toBe("committed");
		expect(calls).toBe(3);
	});

	test("other errors are not retried, and retries are bounded", async () => {
		let calls = 0;
		const unique = Object.assign(new Error("duplicate key"), { code: "23505" });
		await expect(
			retryingConflicts(async () => {
				calls++;
				throw unique;
			}),
		).rejects.toBe(unique);
		expect(calls).toBe(1);
		calls = 0;
		await expect(
			retryingConflicts(async () => {
				calls++;
				throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
			}, 3),
		).rejects.toThrow("deadlock detected");
		expect(calls).toBe(3);
		expect(isRetryable(unique)).toBe(false);
	});
});
