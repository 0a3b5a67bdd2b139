/**
 * The JSON envelope of every web response, as values and as the TypeBox schemas the
 * routes declare, so `/docs/json` shows each answer and each error code a route can give.
 */
import { type TSchema, t } from "elysia";

export const ok = <T>(data: T) => ({ success: true as const, data });

export const failure = (code: string, message: string) => ({
	success: false as const,
	error: { code, message },
});

/** `{success: true, data}` around a route's data. */
export const Ok = <T extends TSchema>(data: T) => t.Object({ success: t.Literal(true), data });

/** `{success: false, error: {code, message}}` carrying one of `codes`. */
export const Failure = (codes: readonly string[]) =>
	t.Object({
		success: t.Literal(false),
		error: t.Object({
			// An enum even for one code, so every error response lists its codes the same way.
			code: t.UnionEnum(codes as [string, ...string[]]),
			message: t.String(),
		}),
	});

export type ErrorCodes = Record<number, readonly string[]>;

/** What every API route can answer whatever it does: a refused Origin, a bug, a database outage. */
const ANY_ROUTE: ErrorCodes = {
	403: ["ORIGIN_NOT_ALLOWED"],
	500: ["INTERNAL_ERROR"],
	503: ["SERVICE_UNAVAILABLE"],
};

/** What a route with a JSON body can answer before it runs (body.ts, errors.ts). */
const JSON_BODY: ErrorCodes = {
	400: ["INVALID_JSON"],
	413: ["PAYLOAD_TOO_LARGE"],
	415: ["UNSUPPORTED_MEDIA_TYPE"],
};

export interface ErrorSpec {
	/** The route reads a JSON body; the code its schema validation answers (default INVALID_REQUEST). */
	body?: string | true;
	/** The route needs a session (401 without one). */
	session?: boolean;
	/** The route's own codes by status. */
	codes?: ErrorCodes;
}

/**
 * The error responses of a route, one envelope schema per status.
 * @example errorResponses({ session: true, codes: { 429: ["RATE_LIMITED"] } })
 */
export function errorResponses(spec: ErrorSpec): Record<number, ReturnType<typeof Failure>> {
	const all: ErrorCodes[] = [ANY_ROUTE, spec.codes ?? {}];
	if (spec.body) all.push(JSON_BODY, { 400: [spec.body === true ? "INVALID_REQUEST" : spec.body] });
	if (spec.session) all.push({ 401: ["SESSION_NOT_FOUND"] });
	const merged = new Map<number, Set<string>>();
	for (const codes of all)
		for (const [status, list] of Object.entries(codes)) {
			const set = merged.get(Number(status)) ?? new Set<string>();
			for (const code of list) set.add(code);
			merged.set(Number(status), set);
		}
	return Object.fromEntries([...merged].map(([status, codes]) => [status, Failure([...codes])]));
}

/** A response that is the bytes themselves (a file, an image), not an envelope. */
export const Bytes = (description: string) => t.String({ format: "binary", description });
