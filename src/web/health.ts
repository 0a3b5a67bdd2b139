/** Liveness (`/health`) and readiness (`/health/ready`), for load balancers and orchestrators. */
import { Elysia, t } from "elysia";
import type { WebDeps } from "./deps.ts";
import { errorResponses, Failure, failure, Ok, ok } from "./envelope.ts";

/** Each part the service needs (database, bot, events) with what it found. */
const Checks = t.Record(t.String(), t.Object({ ok: t.Boolean(), detail: t.String() }));

export function healthRoutes(deps: WebDeps) {
	return new Elysia({ name: "health" })
		.get("/health", () => ok({ status: "ok" as const, version: deps.version }), {
			response: {
				200: Ok(t.Object({ status: t.Literal("ok"), version: t.String() })),
				...errorResponses({}),
			},
			detail: { summary: "Liveness: the process answers" },
		})
		.get(
			"/health/ready",
			async ({ set }) => {
				const parts = await deps.readiness();
				const failing = Object.entries(parts).filter(([, part]) => !part.ok);
				if (failing.length === 0) return ok({ status: "ready" as const, checks: parts });
				set.status = 503;
				return {
					...failure(
						"NOT_READY",
						`Not ready: ${failing.map(([name, part]) => `${name} (${part.detail})`).join(", ")}`,
					),
					checks: parts,
				};
			},
			{
				response: {
					200: Ok(t.Object({ status: t.Literal("ready"), checks: Checks })),
					// The failure envelope with the checks beside it, so a probe log says what is down.
					503: t.Composite([Failure(["NOT_READY"]), t.Object({ checks: Checks })]),
				},
				detail: { summary: "Readiness: the database is migrated, the bot and events work" },
			},
		);
}
