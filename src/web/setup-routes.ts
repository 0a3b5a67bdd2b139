/**
 * `/setup`, the first-run setup page, open only while no bot is saved and only with the one-time
 * code, as the database says (every instance answers alike); otherwise 404, as if it did not
 * exist. A save with the code after a save with it succeeded (a second click, another instance)
 * is told so: 409 SETUP_DONE, and nothing is stored or started. Served from `onRequest`, ahead
 * of the JSON-only body parser, because its forms post `application/x-www-form-urlencoded` (no
 * JavaScript needed). Each action redirects back to the page (post/redirect/get).
 */
import { Elysia } from "elysia";
import type { SetupFlow } from "../setup/flow.ts";
import { renderDonePage, renderSetupPage, SETUP_CSP } from "../setup/page.ts";
import { readLimitedText } from "./body.ts";
import { failure } from "./envelope.ts";

const notFound = () => Response.json(failure("NOT_FOUND", "Not found."), { status: 404 });

const alreadyDone = () =>
	Response.json(
		failure(
			"SETUP_DONE",
			"Setup is already complete: a bot was saved with this code (by another click or another instance), and it runs. This page is closed.",
		),
		{ status: 409 },
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
	if (!flow) return notFound();
	if (request.method === "GET" && url.pathname === "/setup") {
		const code = url.searchParams.get("code") ?? "";
		if ((await flow.check(code)) !== "open") return notFound();
		return html(renderSetupPage(flow.state(), code));
	}
	if (request.method !== "POST") return notFound();
	const form = new URLSearchParams(await readLimitedText(request, 16 * 1024));
	const code = form.get("code") ?? "";
	const action = url.pathname.slice("/setup/".length);
	const check = await flow.check(code);
	if (check === "done" && action === "save") return alreadyDone();
	if (check !== "open") return notFound();
	if (action === "token") await flow.submitToken(form.get("token") ?? "");
	else if (action === "group") await flow.chooseGroup(Number(form.get("groupId")));
	else if (action === "groups") await flow.addGroups(form.get("groups") ?? "");
	else if (action === "recheck") await flow.recheck();
	else if (action === "save") {
		const outcome = await flow.save(code);
		if (outcome === "saved") return html(renderDonePage(flow.state()));
		if (outcome === "done") return alreadyDone();
		if (outcome === "refused") return notFound();
	} else return notFound();
	return new Response(null, {
		status: 303,
		headers: { location: `/setup?code=${encodeURIComponent(code)}` },
	});
}

/** The plugin: answers /setup paths before routing; `flow()` is undefined when there is none. */
export function setupRoutes(flow: () => SetupFlow | undefined) {
	return new Elysia({ name: "setup-routes" }).onRequest(({ request }) =>
		handleSetup(flow(), request),
	);
}
