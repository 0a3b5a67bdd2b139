/**
 * `/docs/json` describes the whole widget API: every /api
 * operation carries its request schema where it takes one, the schema of its success envelope,
 * and error envelopes whose codes are listed, so a client can be written from it alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningService } from "../src/service.ts";
import { freshDatabase, type TestDatabase } from "./support/db.ts";
import { startTestService } from "./support/service.ts";

interface Schema {
	type?: string;
	format?: string;
	enum?: string[];
	properties?: Record<string, Schema>;
	required?: string[];
}
interface Operation {
	requestBody?: { content?: Record<string, { schema?: Schema }> };
	parameters?: { name: string; in: string }[];
	responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
type Spec = { paths: Record<string, Record<string, Operation>> };

/** The operations that take a body, with its content type and the fields it names. */
const BODIES: Record<string, [string, string[]]> = {
	"post /api/chat/init": ["application/json", ["identity", "pageUrl"]],
	"post /api/chat/message": ["application/json", ["text", "replyTo", "clientMessageId"]],
	"post /api/chat/close": ["application/json", ["resolved", "feedback", "rating"]],
	"post /api/chat/rate": ["application/json", ["rating", "feedback"]],
	"post /api/chat/upload": ["multipart/form-data", ["file", "caption"]],
	"post /api/widget/errors": ["application/json", ["errors"]],
};

let db: TestDatabase;
let service: RunningService;
let spec: Spec;

beforeAll(async () => {
	db = await freshDatabase();
	service = await startTestService({ db });
	const response = await fetch(`${service.url}/docs/json`);
	expect(response.status).toBe(200);
	spec = (await response.json()) as Spec;
});
afterAll(async () => {
	await service.stop();
	await db.drop();
});

const apiOperations = () =>
	Object.entries(spec.paths)
		.filter(([path]) => path.startsWith("/api/"))
		.flatMap(([path, methods]) =>
			Object.entries(methods).map(([method, op]) => ({ id: `${method} ${path}`, op })),
		);

/** The body schema, wherever the object sits (nullable or optional bodies are unions). */
const objectOf = (schema: Schema | undefined): Schema | undefined =>
	schema?.properties
		? schema
		: ((schema as { anyOf?: Schema[] } | undefined)?.anyOf ?? []).find((s) => s.properties);

describe("/docs/json", () => {
	test("lists every /api operation of the widget", () => {
		const ids = apiOperations().map((o) => o.id);
		for (const id of [
			...Object.keys(BODIES),
			"get /api/chat/history",
			"get /api/chat/status",
			"post /api/chat/link-telegram",
			"get /api/chat/bot-info",
			"get /api/chat/bot-avatar",
			"get /api/media/{id}",
		])
			expect(ids).toContain(id);
	});

	test("every operation that takes a body describes it, with its content type and fields", () => {
		for (const { id, op } of apiOperations()) {
			const expected = BODIES[id];
			if (!expected) {
				expect({ id, body: op.requestBody }).toEqual({ id, body: undefined });
				continue;
			}
			const [type, fields] = expected;
			const body = objectOf(op.requestBody?.content?.[type]?.schema);
			expect({ id, fields: Object.keys(body?.properties ?? {}).sort() }).toEqual({
				id,
				fields: [...fields].sort(),
			});
		}
	});

	test("the history query parameters are described", () => {
		const op = spec.paths["/api/chat/history"]?.get;
		const query = (op?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
		expect(query).toEqual(expect.arrayContaining(["limit", "before", "after"]));
	});

	test("every operation has its success response: the envelope around its data, or the bytes", () => {
		for (const { id, op } of apiOperations()) {
			const status = op.responses?.["201"] ? "201" : "200";
			const content = op.responses?.[status]?.content ?? {};
			if (id === "get /api/media/{id}" || id === "get /api/chat/bot-avatar") {
				const bytes = Object.values(content)[0]?.schema;
				expect({ id, format: bytes?.format }).toEqual({ id, format: "binary" });
				continue;
			}
			const schema = content["application/json"]?.schema;
			expect({ id, envelope: schema?.required }).toEqual({ id, envelope: ["success", "data"] });
			expect({ id, hasData: Object.keys(schema?.properties?.data ?? {}).length > 0 }).toEqual({
				id,
				hasData: true,
			});
		}
	});

	test("every operation lists its error envelopes with their codes", () => {
		for (const { id, op } of apiOperations()) {
			const errors = Object.entries(op.responses ?? {}).filter(([status]) => Number(status) >= 400);
			expect({ id, some: errors.length >= 3 }).toEqual({ id, some: true });
			for (const [status, response] of errors) {
				const schema = response.content?.["application/json"]?.schema;
				expect({ id, status, envelope: schema?.required }).toEqual({
					id,
					status,
					envelope: ["success", "error"],
				});
				const codes = schema?.properties?.error?.properties?.code?.enum ?? [];
				expect({ id, status, hasCodes: codes.length > 0 }).toEqual({ id, status, hasCodes: true });
			}
			const codes = (status: string) =>
				op.responses?.[status]?.content?.["application/json"]?.schema?.properties?.error?.properties
					?.code?.enum ?? [];
			expect(codes("500")).toEqual(["INTERNAL_ERROR"]);
			expect(codes("503")).toContain("SERVICE_UNAVAILABLE");
			if (BODIES[id]?.[0] === "application/json") {
				expect(codes("400")).toContain("INVALID_JSON");
				expect(codes("413")).toEqual(["PAYLOAD_TOO_LARGE"]);
				expect(codes("415")).toEqual(["UNSUPPORTED_MEDIA_TYPE"]);
			}
		}
		const send = spec.paths["/api/chat/message"]?.post?.responses ?? {};
		const sendCodes =
			send["400"]?.content?.["application/json"]?.schema?.properties?.error?.properties?.code?.enum;
		expect(sendCodes).toEqual(expect.arrayContaining(["INVALID_MESSAGE", "MESSAGE_TOO_LONG"]));
		expect(Object.keys(send)).toContain("401");
	});
});
