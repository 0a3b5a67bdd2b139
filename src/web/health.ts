/** Liveness and readiness (SPEC §4.2). */
import { Elysia } from "elysia";
import type { WebDeps } from "./deps.ts";
import { failure, ok } from "./envelope.ts";

export function healthRoutes(deps: WebDeps) {
	return new Elysia({ name: "health" })
		.get("/health", () => ok({ status: "ok", version: deps.version }))
		.get("/health/ready", async ({ set }) => {
			const parts = await deps.readiness();
			const failing = Object.entries(parts).filter(([, part]) => !part.ok);
			if (failing.length === 0) return ok({ status: "ready", checks: parts });
			set.status = 503;
			return {
				...failure(
					"NOT_READY",
					`Not ready: ${failing.map(([name, part]) => `${name} (${part.detail})`).join(", ")}`,
				),
				checks: parts,
			};
		});
}
