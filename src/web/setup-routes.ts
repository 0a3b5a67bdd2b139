/**
 * `/setup`, the first-run setup page, open only while the service runs without a bot and only
 * with the one-time code; otherwise 404, as if it did not exist. Served from `onRequest`, ahead
 * of the JSON-only body parser, because its forms post `application/x-www-form-urlencoded` (no
 * JavaScript needed). Each action redirects back to the page (post/redirect/get).
 */
import { Elysia } from "elysia";
import type { SetupFlow } from "../setup/flow.ts";
import { renderDonePage, renderSetupPage, SETUP_CSP } from "../setup/page.ts";
import { readLimitedText } from "./body.ts";

const notFound = () =>
	Response.json(
		{ success: false, error: { code: "NOT_FOUND", message: "Not found." } },
		{ status: 404 },
	);

const html = (body: string) =>
	new Response(body, {
		headers: {
			"content-type": "text/html; charset=utf-8",
			"content-security-policy": SETUP_CSP,
			"cache-control": "no-store",
			"referrer-policy": "no-referrer",
			"x-content-type-options": "nosniff",
		},
	});

export async function handleSetup(
	flow: SetupFlow | undefined,
	request: Request,
): Promise<Response | undefined> {
	// Every request passes here: a substring test keeps the common case from parsing the URL.
	if (!request.url.includes("/setup")) return undefined;
	const url = new URL(request.url);
	if (url.pathname !== "/setup" && !url.pathname.startsWith("/setup/")) return undefined;
	if (!flow?.isOpen()) return notFound();
	if (request.method === "GET" && url.pathname === "/setup") {
		if (!flow.accepts(url.searchParams.get("code"))) return notFound();
		return html(renderSetupPage(flow.state(), flow.code));
	}
	if (request.method !== "POST") return notFound();
	const form = new URLSearchParams(await readLimitedText(request, 16 * 1024));
	if (!flow.accepts(form.get("code"))) return notFound();
	const action = url.pathname.slice("/setup/".length);
	if (action === "token") await flow.submitToken(form.get("token") ?? "");
	else if (action === "group") await flow.chooseGroup(Number(form.get("groupId")));
	else if (action === "recheck") await flow.recheck();
	else if (action === "save") {
		if (await flow.save()) return html(renderDonePage(flow.state()));
	} else return notFound();
	return new Response(null, {
		status: 303,
		headers: { location: `/setup?code=${encodeURIComponent(flow.code)}` },
	});
}

/** The plugin: answers /setup paths before routing; `flow()` is undefined when there is none. */
export function setupRoutes(flow: () => SetupFlow | undefined) {
	return new Elysia({ name: "setup-routes" }).onRequest(({ request }) =>
		handleSetup(flow(), request),
	);
}
