/**
 * The setup page: plain server-rendered HTML with forms, so it works without JavaScript; while
 * it waits for the bot to be added to a group it reloads itself (meta refresh).
 */
import type { CheckResult } from "./checks.ts";
import { type SetupState, STARTGROUP_ADMIN_RIGHTS } from "./flow.ts";

const escapeHtml = (text: string) =>
	text.replace(
		/[&<>"']/g,
		(c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
	);

/** The page's own policy: inline styles, forms to itself, nothing else. */

const STYLE = `
:root { color-scheme: light dark; --accent: #2481cc; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 40rem;
  margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
section { border: 1px solid #8884; border-radius: 12px; padding: 0.5rem 1rem 1rem; margin: 1rem 0; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: 0.6rem;
  border: 1px solid #8888; border-radius: 8px; font: inherit; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 0.6rem 1rem;
  font: inherit; cursor: pointer; margin-top: 0.5rem; }
ul.checks { list-style: none; padding: 0; } ul.checks li { margin: 0.4rem 0; }
.fix { display: block; color: #b35900; margin-left: 1.6rem; }
.muted { opacity: 0.75; }
`;

/** Only this page's own stylesheet (by its hash) and no script at all; forms post back here. */
export const SETUP_CSP = `default-src 'none'; style-src 'sha256-${new Bun.CryptoHasher("sha256").update(STYLE).digest("base64")}'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

function checkList(results: CheckResult[]): string {
	return `<ul class="checks">${results
		.map((r) => {
			const mark = r.warning ? "⚠" : r.ok ? "✓" : "✗";
			const fix = !r.ok || r.warning ? `<span class="fix">${escapeHtml(r.fix ?? "")}</span>` : "";
			return `<li><span aria-hidden="true">${mark}</span> <span>${r.ok && !r.warning ? "" : r.warning ? "Advice: " : "Problem: "}${escapeHtml(r.label)}</span>${fix}</li>`;
		})
		.join("")}</ul>`;
}

const form = (code: string, action: string, inner: string) =>
	`<form method="post" action="/setup/${action}"><input type="hidden" name="code" value="${escapeHtml(code)}">${inner}</form>`;

export function renderSetupPage(state: SetupState, code: string): string {
	const waiting = state.bot && state.groupId === undefined;
	const parts: string[] = [];
	parts.push(`<section aria-labelledby="step1"><h2 id="step1">1. Your bot</h2>
<p>Create a bot with <a href="https://t.me/BotFather">@BotFather</a> (/newbot) and paste its token here.</p>
${form(
	code,
	"token",
	`<label for="token">Bot token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Check token</button>`,
)}
${state.tokenProblems.length ? checkList(state.tokenProblems) : ""}
${state.bot ? `<p role="status">✓ Bot found: <strong>${escapeHtml(state.bot.firstName)}</strong> (@${escapeHtml(state.bot.username)})</p>` : ""}
</section>`);
	if (state.bot) {
		const handle = `@${escapeHtml(state.bot.username)}`;
		const link = `https://t.me/${encodeURIComponent(state.bot.username)}?startgroup=setup&amp;admin=${STARTGROUP_ADMIN_RIGHTS}`;
		const groups = state.groups.filter((g) => g.type === "supergroup");
		parts.push(`<section aria-labelledby="step2"><h2 id="step2">2. Your support group</h2>
<p>Add ${handle} to your forum supergroup as an administrator (or <a href="${link}">use this link</a>). The group appears here automatically.</p>
${
	groups.length
		? `<ul>${groups
				.map(
					(g) =>
						`<li>${form(code, "group", `<input type="hidden" name="groupId" value="${g.id}"><strong>${escapeHtml(g.title)}</strong> <span class="muted">(${g.id})</span> <button type="submit">Use ${escapeHtml(g.title)}</button>`)}</li>`,
				)
				.join("")}</ul>`
		: `<p class="muted" role="status">Waiting for ${handle} to be added to a group…</p>`
}
${state.groups.some((g) => g.type === "group") ? `<p class="muted">A basic group was found; turn on Topics in it (group → Edit → Topics) and it becomes a supergroup that appears here.</p>` : ""}
</section>`);
	}
	if (state.report && state.groupId !== undefined) {
		parts.push(`<section aria-labelledby="step3"><h2 id="step3">3. Checks</h2>
${checkList(state.report.results.filter((r) => r.id !== "token_shape"))}
${moreGroupsPart(state, code)}
${form(code, "recheck", `<button type="submit">Check again</button>`)}
${
	state.report.ok
		? `<h2>4. Save</h2><p>The token is stored encrypted; the desk starts at once and this page closes for good.</p>${form(code, "save", `<button type="submit">Save and start</button>`)}`
		: ""
}
</section>`);
	}
	return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${waiting ? `<meta http-equiv="refresh" content="2">` : ""}
<title>topicdesk setup</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><main><h1>Set up topicdesk</h1>${parts.join("\n")}</main></body></html>`;
}

export function renderDonePage(state: SetupState): string {
	const group = state.groups.find((g) => g.id === state.groupId);
	return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>topicdesk is set up</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><main><h1>Setup complete</h1>
<p role="status">@${escapeHtml(state.bot?.username ?? "")} now serves ${escapeHtml(group?.title ?? String(state.groupId))}. This page is closed for good; environment variables (BOT_TOKEN, SUPPORT_GROUP_ID) override what was saved here.</p>
</main></body></html>`;
}

/**
 * More support groups (optional): one group takes about 20 writes a minute, so a busy desk or
 * separate teams add groups by id, each checked like the first.
 */
function moreGroupsPart(state: SetupState, code: string): string {
	const typed = [...state.moreGroups.map((more) => String(more.groupId)), ...state.moreProblems];
	const field = `<label for="groups">More support groups (optional): ids separated by commas, e.g. -1001234567890</label>
<input id="groups" name="groups" value="${escapeHtml(typed.join(", "))}"> <button type="submit">Check these groups</button>`;
	const problems = state.moreProblems.length
		? `<p class="fix" role="alert">Not a supergroup id: ${state.moreProblems.map(escapeHtml).join(", ")}</p>`
		: "";
	const checked = state.moreGroups
		.map((more) => `<h3>Group ${more.groupId}</h3>${checkList(more.results)}`)
		.join("");
	return `${form(code, "groups", field)}${problems}${checked}`;
}
