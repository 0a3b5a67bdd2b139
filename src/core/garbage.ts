/**
 * Large short-lived buffers (an upload's chunks as they arrive, a file's text on its way to the
 * database) are garbage the moment they have been copied on, but the collector runs by the
 * growth of the JavaScript heap and lets them pile up: under parallel uploads the process would
 * hold several times the files' size in dead chunks. Every so many bytes of them, a collection is
 * asked for (without waiting for it).
 */

/** Garbage between two collections asked for. */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;

let since = 0;

/**
 * Notes `bytes` of large buffers just dropped; asks for a collection when enough piled up.
 *
 * @example for await (const chunk of body) { sink.push(chunk); dropped(chunk.byteLength); }
 */
export function dropped(bytes: number): void {
	since += bytes;
	if (since < COLLECT_EVERY_BYTES) return;
	since = 0;
	Bun.gc(true);
}
