/**
 * Domain errors are values with a stable code and an HTTP status; the web door maps them to the
 * envelope, the WebSocket door to an `error` frame.
 */
export class AppError extends Error {
	constructor(
		readonly code: string,
		message: string,
		readonly status = 400,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = "AppError";
	}
}

export const sessionNotFound = () =>
	new AppError("SESSION_NOT_FOUND", "Session not found. Call /api/chat/init first.", 401);
