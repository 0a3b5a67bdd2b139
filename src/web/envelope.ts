/** The JSON envelope of every web response (SPEC §4.1). */
export const ok = <T>(data: T) => ({ success: true as const, data });

export const failure = (code: string, message: string) => ({
	success: false as const,
	error: { code, message },
});
