/**
 * Benchmark "uploads": what files being received cost the service in memory.
 *
 * 16 visitors, each from their own address, upload a 20 MiB document at once. The service's RSS
 * is sampled every 50 ms from the first byte sent until every upload was answered, and again
 * until every file reached the support group (the copies to Telegram read the stored bytes back).
 * The figure that matters is the growth over the RSS measured before (after forced collections)
 * against the bytes in flight (16 × 20 MiB): a service that holds each upload once stays near 1×.
 * The copies to Telegram of the files stored first overlap the later uploads, as they would live.
 */
import { sleep } from "./support/clock.ts";
import { count, fixed, publishReport, table } from "./support/report.ts";
import { startBenchStack, UNTHROTTLED_CONFIG } from "./support/service.ts";
import { clientAddress, initSessions } from "./support/web.ts";

const UPLOADS = 16;
const FILE_BYTES = 20 * 1024 * 1024;
const SAMPLE_MS = 50;
/** The target: RSS growth at most this many times the bytes in flight. */
const TARGET_RATIO = 1.5;
const MIB = 1024 * 1024;

const log = (line: string) => console.log(`[uploads] ${line}`);
/** Each visitor in a network of their own: the caps per address and per network stay out of it. */
const addressOf = (index: number) => clientAddress(index * 256 + 1);

/** A PDF by its signature, random after it (nothing for the database to compress). */
function pdf(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let at = 0; at < size; at += 65_536)
		crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65_536)));
	bytes.set(new TextEncoder().encode("%PDF-1.4\n"));
	return bytes;
}

const { machine, double, service, stop } = await startBenchStack(UNTHROTTLED_CONFIG);

/** The service's highest RSS (kB) while `work` runs, sampled every SAMPLE_MS. */
async function peakRss<T>(work: Promise<T>): Promise<{ result: T; peakKb: number }> {
	let peakKb = service.rssKb();
	let done = false;
	const sampler = (async () => {
		while (!done) {
			peakKb = Math.max(peakKb, service.rssKb());
			await sleep(SAMPLE_MS);
		}
	})();
	const result = await work.finally(() => {
		done = true;
	});
	await sampler;
	return { result, peakKb: Math.max(peakKb, service.rssKb()) };
}

function upload(session: string, address: string, bytes: Uint8Array, name: string) {
	const form = new FormData();
	form.append("file", new File([bytes], name, { type: "application/pdf" }));
	return fetch(`${service.url}/api/chat/upload`, {
		method: "POST",
		headers: { "x-session-id": session, "x-forwarded-for": address },
		body: form,
	});
}

try {
	log(`service pid ${service.pid} at ${service.url}`);
	const { sessionIds } = await initSessions(service.url, UPLOADS + 1, 8);
	// One small upload first, so the route's code is compiled before it is measured.
	const warm = await upload(
		sessionIds[UPLOADS] as string,
		addressOf(UPLOADS),
		pdf(256 * 1024),
		"warm.pdf",
	);
	if (warm.status !== 201) throw new Error(`warm-up upload answered ${warm.status}`);
	await double.waitForCall("sendDocument", { timeoutMs: 60_000 });
	await sleep(2_000);
	const before = await service.rssAfterGcKb();
	const file = pdf(FILE_BYTES);
	const since = double.calls.length;
	const started = performance.now();
	const uploads = await peakRss(
		Promise.all(
			sessionIds.slice(0, UPLOADS).map(async (session, index) => {
				const response = await upload(session, addressOf(index), file, `file-${index}.pdf`);
				await response.arrayBuffer();
				return response.status;
			}),
		),
	);
	const uploadSeconds = (performance.now() - started) / 1000;
	const answered = uploads.result.filter((status) => status === 201).length;
	log(`${answered}/${UPLOADS} uploads stored in ${fixed(uploadSeconds, 1)} s`);
	const delivered = () =>
		double.calls.slice(since).filter((c) => c.ok && c.method === "sendDocument").length;
	const delivery = await peakRss(
		(async () => {
			const deadline = performance.now() + 180_000;
			while (delivered() < answered && performance.now() < deadline) await sleep(100);
		})(),
	);
	const after = await service.rssAfterGcKb();
	const inFlightKb = (UPLOADS * FILE_BYTES) / 1024;
	const growth = (peakKb: number) => peakKb - before.kb;
	const ratio = (peakKb: number) => growth(peakKb) / inFlightKb;
	const mib = (kb: number) => count(kb / 1024);
	log(
		`RSS ${mib(before.kb)} MiB before; peak while receiving ${mib(uploads.peakKb)} MiB (+${mib(growth(uploads.peakKb))}, ${fixed(ratio(uploads.peakKb), 2)}× the bytes in flight); peak while delivering ${mib(delivery.peakKb)} MiB; ${mib(after.kb)} MiB after, forced GC`,
	);

	const report = [
		`${UPLOADS} visitors (one address each) upload a ${count(FILE_BYTES / MIB)} MiB PDF at once (random bytes after the signature); ${count((UPLOADS * FILE_BYTES) / MIB)} MiB in flight. The service's RSS is sampled every ${SAMPLE_MS} ms; growth is over the RSS read before, after forced collections${before.gc ? "" : " (no GC hook: read as is)"}. Then the ${answered} files are copied to the support group (read back from the database), sampled the same way.`,
		"",
		table(
			["measure", "result", "target"],
			[
				[
					`RSS growth while receiving ${UPLOADS} × ${count(FILE_BYTES / MIB)} MiB`,
					`**${fixed(ratio(uploads.peakKb), 2)}× the bytes in flight** (${mib(before.kb)} → ${mib(uploads.peakKb)} MiB, +${mib(growth(uploads.peakKb))} MiB)`,
					`≤ ${TARGET_RATIO}×`,
				],
				[
					"RSS peak while copying them to Telegram",
					`${mib(delivery.peakKb)} MiB (+${mib(growth(delivery.peakKb))} MiB)`,
					"—",
				],
				["RSS after, forced GC", `${mib(after.kb)} MiB`, "—"],
				[
					"uploads stored / time to the last answer",
					`${answered}/${UPLOADS} in ${fixed(uploadSeconds, 1)} s`,
					"—",
				],
				["files delivered to the group", `${delivered()}/${answered}`, "—"],
			],
		),
	].join("\n");
	publishReport("uploads", machine, report);
} finally {
	await stop();
}
