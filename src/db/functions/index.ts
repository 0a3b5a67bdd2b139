/**
 * The stored SQL functions, one file per room that calls them. Each file holds the one current
 * text of its functions (`CREATE OR REPLACE`); `migrate()` applies them all after the migrations,
 * so a function changes by editing its file, never by a migration. A function that is renamed or
 * whose parameters change gets a `DROP FUNCTION IF EXISTS` of its old form in `retired.sql`.
 */
import messages from "./messages.sql" with { type: "text" };
import outbox from "./outbox.sql" with { type: "text" };
import retired from "./retired.sql" with { type: "text" };

/** In the order they are applied: retired forms dropped first, then helpers before callers. */
export const functionFiles: { name: string; sql: string }[] = [
	{ name: "retired", sql: retired },
	{ name: "outbox", sql: outbox },
	{ name: "messages", sql: messages },
];
