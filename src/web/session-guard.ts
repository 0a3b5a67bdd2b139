import { Elysia } from "elysia";
import type { Database } from "../db/client.ts";
import { requireSession } from "./session.ts";

/** Route guard: `{ session: true }` resolves the caller's session or answers 401. */
export function sessionGuard(database: Database) {
	return new Elysia({ name: "session-guard" }).macro({
		session: {
			async resolve({ cookie, headers, query }) {
				return { session: await requireSession(database, { cookie, headers, query }) };
			},
		},
	});
}
