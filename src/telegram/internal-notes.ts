/** Operator messages that stay in the topic: notes for colleagues, never sent to the customer. */

const NOTE_MARKER = /^\s*(\/\/|#internal)/i;

export function isInternalNote(text: string): boolean {
	return NOTE_MARKER.test(text);
}

/**
 * A note's text without its marker: a canned reply drafted as a note in the topic (so the
 * customer does not get the draft) is saved as the text the customer should get.
 * @example withoutNoteMarker("// Hello {name}!") // "Hello {name}!"
 */
export function withoutNoteMarker(text: string): string {
	return text.replace(NOTE_MARKER, "").trim();
}
